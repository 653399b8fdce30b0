"""What Herald counts for Prometheus (served at /metrics by `health.py` when METRICS_PORT is set).

The counting is one call at each place where the thing happens: a post finished and a sweep
(scheduler/jobs.py), one try on one target or a delivery closed without one (scheduler/engine.py),
a 429 from Telegram (publishers/rate_limit.py). They are process-wide, in prometheus_client's
default registry (with its own process_* and python_* metrics); each process — the bot, every
worker — serves its own.
"""

from __future__ import annotations

from datetime import datetime

from prometheus_client import Counter, Gauge, Histogram

from storage.models import DeliveryStatus, Post, PostStatus, Target

POSTS_FINISHED = Counter(
    "herald_posts_finished",
    "Posts finished by this process (or confirmed by hand through it), by final status",
    ["status"],
)
DELIVERIES = Counter(
    "herald_deliveries",
    "Deliveries to one target, by platform and outcome: each try (sent, failed, unconfirmed, awaiting_you, "
    "or retry: a failure that will be tried again), and each closed without a try (missed, unconfirmed "
    "after a crash mid-request)",
    ["platform", "outcome"],
)
PUBLICATION_LAG = Histogram(
    "herald_publication_lag_seconds",
    "Seconds from a post's scheduled time to the first of its targets being sent",
    buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, float("inf")),
)
QUEUE_DEPTH = Gauge(
    "herald_queue_depth",
    "Posts due and not yet claimed by any process (due now, or waiting to retry and due), at the last sweep",
)
CLAIMS_TAKEN_OVER = Counter(
    "herald_claims_taken_over",
    "Claims of dead processes of this machine that this process ended to take their posts over",
)
TELEGRAM_RATE_LIMITED = Counter(
    "herald_telegram_rate_limited",
    "Answers 429 Too Many Requests (RetryAfter) that Telegram gave this process",
)
SWEEP_DURATION = Histogram(
    "herald_sweep_duration_seconds",
    "Seconds a sweep took: taking over, planning, publishing what was due, sending reports",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, float("inf")),
)
# Pre-declared so that a scrape shows every status at 0 before the first post ends.
for _status in (PostStatus.PUBLISHED, PostStatus.PARTIAL, PostStatus.FAILED):
    POSTS_FINISHED.labels(status=_status.value)


def post_finished(post: Post) -> None:
    """Counts a post that reached its final status."""
    if post.status.is_final:
        POSTS_FINISHED.labels(status=post.status.value).inc()


def delivery_tried(post: Post, target: Target, status: DeliveryStatus, retrying: bool, now: datetime) -> None:
    """Counts one try on one target; the first target sent of a post gives its publication lag.
    Call before the try's outcome is written into `post.deliveries`."""
    DELIVERIES.labels(platform=target.platform.value, outcome="retry" if retrying else status.value).inc()
    if status is DeliveryStatus.SENT and not retrying:
        others_sent = any(
            delivery.status is DeliveryStatus.SENT
            for target_id, delivery in post.deliveries.items()
            if target_id != target.target_id
        )
        if not others_sent:
            PUBLICATION_LAG.observe(max((now - post.scheduled_time).total_seconds(), 0.0))
