"""What-if: the fixes suggested in bench/RESULTS.md, applied at run time inside this benchmark
process only (monkeypatches; Herald's files are not touched), and the same benchmark run again
beside an unpatched run, so each fix's effect is measured on the same machine in the same run.

    python -m bench.whatif lag [--posts 10000] [--stores sqlite]
    python -m bench.whatif throughput [--posts 10000] [--stores sqlite]

Fixes:
  planning   scheduler/jobs.py — find a post's one-off job by its APScheduler id (O(1)) instead of
             JobQueue.get_jobs_by_name (a scan of every job, each through a regex) in
             plan_upcoming and post_cancelled; give each job the id `post:<id>`.
  sqlite     storage/sqlite.py — claim_due_posts orders and limits each branch of its UNION
             before merging (no sort of every due post per claim); finish_post reads then writes
             once, fenced by worker_id as MongoStore does (2 statements, no BEGIN IMMEDIATE/COMMIT
             and no asyncio.Lock); and the lease is extended by the `sending` record_delivery
             instead of a separate renew_lease before every attempt (scheduler/engine.py _deliver).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime, timedelta
from typing import Any

from bench.common import command_line, log, machine, table, update_results


# -- planning: O(1) lookup of a post's job --------------------------------------------------------
def patch_planning() -> None:
    from scheduler import jobs
    from storage.models import Post, utc_now

    scheduler_class: Any = jobs.Scheduler

    def _add_job(self: Any, post_id: str, when: datetime) -> Any:
        name = jobs.post_job_name(post_id)
        return self.job_queue.run_once(
            self._publish_at_time, when=when, name=name, data=post_id, job_kwargs={"id": name, "replace_existing": True}
        )

    async def plan_upcoming(self: Any) -> None:
        aps = self.job_queue.scheduler
        upcoming = await self.services.store.scheduled_posts(until=utc_now() + self.horizon, limit=5000)
        for number, (post_id, when) in enumerate(upcoming):
            if aps.get_job(jobs.post_job_name(post_id)) is None:
                self._add_job(post_id, when)
            if number % 200 == 199:
                await asyncio.sleep(0)  # let due jobs run while a long plan is made

    async def post_cancelled(self: Any, post: Post) -> None:
        job = self.job_queue.scheduler.get_job(jobs.post_job_name(post.post_id))
        if job is not None:
            job.remove()

    scheduler_class._add_job = _add_job
    scheduler_class.plan_upcoming = plan_upcoming
    scheduler_class.post_cancelled = post_cancelled


# -- sqlite: fewer statements per post --------------------------------------------------------------
def patch_sqlite() -> None:
    patch_sqlite_claim()
    patch_sqlite_finish()
    patch_sqlite_lease()


def patch_sqlite_claim() -> None:
    from storage import sqlite
    from storage.codec import iso_text
    from storage.models import Post

    store_class: Any = sqlite.SQLiteStore

    async def claim_due_posts(
        self: Any, worker_id: str, now: datetime, lease: timedelta, limit: int = 50
    ) -> list[Post]:
        now_text = iso_text(now)
        rows = await self._fetchall(
            f"{self._CLAIM} post_id IN (SELECT post_id FROM ("
            "SELECT * FROM (SELECT post_id, scheduled_time FROM posts WHERE status = 'scheduled' "
            "AND scheduled_time <= ? ORDER BY scheduled_time LIMIT ?) UNION ALL "
            "SELECT * FROM (SELECT post_id, scheduled_time FROM posts WHERE status = 'publishing' "
            "AND lease_until < ? ORDER BY lease_until LIMIT ?)) ORDER BY scheduled_time LIMIT ?) "
            f"{self._RETURNING}",
            (worker_id, iso_text(now + lease), now_text, now_text, limit, now_text, limit, limit),
        )
        posts = [sqlite._row_to_post(row) for row in rows]
        posts.sort(key=lambda post: post.scheduled_time)
        return posts

    store_class.claim_due_posts = claim_due_posts


def patch_sqlite_lease() -> None:
    from storage import sqlite
    from storage.codec import ISO_TIMES, delivery_to_doc, iso_text
    from storage.models import Delivery, DeliveryStatus

    store_class: Any = sqlite.SQLiteStore
    pending_lease: dict[tuple[str, str], str] = {}
    original_renew = store_class.renew_lease

    async def renew_lease(self: Any, post_id: str, worker_id: str, now: datetime, lease: timedelta) -> bool:
        # Called by Publication._deliver right before record_delivery(sending): defer it there.
        if sys._getframe(1).f_code.co_name == "_deliver":
            pending_lease[(post_id, worker_id)] = iso_text(now + lease)
            return True
        return bool(await original_renew(self, post_id, worker_id, now, lease))

    async def record_delivery(self: Any, post_id: str, worker_id: str, delivery: Delivery) -> bool:
        lease_until = pending_lease.pop((post_id, worker_id), None)
        changed = await self._execute(
            "UPDATE posts SET doc = json_set(doc, '$.deliveries.\"' || ? || '\"', json(?)), "
            "lease_until = COALESCE(?, lease_until) WHERE post_id = ? AND worker_id = ? AND status = 'publishing'",
            (
                delivery.target_id,
                json.dumps(delivery_to_doc(delivery, ISO_TIMES)),
                lease_until if delivery.status is DeliveryStatus.SENDING else None,
                post_id,
                worker_id,
            ),
        )
        return bool(changed == 1)

    store_class.renew_lease = renew_lease
    store_class.record_delivery = record_delivery


def patch_sqlite_finish() -> None:
    """Now in Herald itself (and further: `finish_post(post, worker_id, now)` writes the worker's
    deliveries, status and result in one fenced UPDATE with no read), so nothing to patch; the
    what-if's read-then-update with the old signature would no longer fit the engine."""
    log("what-if finish_post: already in Herald (one fenced UPDATE, no read), not patched")


PATCHES = {"planning": patch_planning, "sqlite": patch_sqlite}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("bench", choices=("lag", "throughput"))
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--stores", default="sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args(argv)
    info = machine()
    rows: list[list[Any]] = []
    if args.bench == "lag":
        from bench import lag

        common = ["--posts", str(args.posts), "--stores", args.stores, "--designs", "herald", "--no-write"]
        variants = [("as is", lag.main(common))]
        patch_planning()
        variants.append(("planning fix", lag.main(common)))
        patch_sqlite()
        variants.append(("planning + SQLite fixes", lag.main(common)))
        for label, lag_runs in variants:
            for run in lag_runs:
                rows.append([run.kind, label, f"{run.count:,}", *_lag_numbers(run.lags), run.missing])
        headers = ["store", "Herald", "posts", "p50 lag s", "p99 lag s", "max lag s", "not published"]
        title, section = "What-if: plan_upcoming with an O(1) job lookup (and fewer SQLite statements)", "whatif-lag"
    else:
        from bench import throughput

        common = [
            "--posts", str(args.posts), "--stores", args.stores, "--designs", "herald",
            "--repeat", str(args.repeat), "--no-write",
        ]  # fmt: skip
        steps = [
            ("as is", None),
            ("+ claim: each UNION branch ordered and limited", patch_sqlite_claim),
            ("+ finish_post: read, then one fenced UPDATE", patch_sqlite_finish),
            ("+ lease extended by record_delivery(sending)", patch_sqlite_lease),
        ]
        for label, patch in steps:
            if patch is not None:
                patch()
            result = throughput.main(common)
            for (kind, _), rate in result["rates"].items():
                rows.append([kind, label, f"{result['counts'][kind]:,}", rate])
        headers = ["store", "Herald (fixes cumulative)", "posts", "posts/s (median)"]
        title, section = "What-if: fewer SQLite statements per post", "whatif-throughput"
    text = table(headers, rows)
    print(text)
    body = (
        "The suggested fix applied at run time in the benchmark process (bench/whatif.py; Herald's files "
        "untouched), measured right after the unpatched run on the same machine.\n\n" + text
    )
    if not args.no_write:
        update_results(section, title, body, info, command_line())
    log("done")


def _lag_numbers(lags: list[float]) -> list[float]:
    from bench.common import percentile

    return [percentile(lags, 50), percentile(lags, 99), max(lags, default=float("nan"))]


if __name__ == "__main__":
    main()
