"""Recurring series: a post's content, account and targets repeated by a rule, and what each of
its changes does to it — written once here as pure functions; each store only performs the guarded
write (`Store.save_series`, a write that holds only if nobody changed the series meanwhile).

How an occurrence becomes a post exactly once, across processes and restarts:

1. *Commit*: a worker advances the series from occurrence k to k+1 in one guarded write (the
   series' `version` must be the one it read) that also records occurrence k as `pending`, under
   a claim with a lease. Two workers cannot both commit k: the second write finds another version.
2. *Write the post*: the post of occurrence k has an id derived from (series, k) and is written
   only if absent, so writing it twice — by a worker that stalled past its lease and the one that
   took over — still leaves one post.
3. *Settle*: `pending` is cleared, fenced by the claim. A worker that died between 1 and 3 leaves
   `pending` behind; once its lease ends (or at once, when its process is known dead) another
   worker takes the claim over and repeats 2 and 3.

Occurrences whose time passed while no bot ran are taken together at the next commit: the latest
one is made (published if within MAX_LATENESS, else made as missed) and tells the owner how many
earlier ones were missed, so a long outage never ends in a burst of the same post."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Any

from storage.codec import TimeCodec, post_from_doc, post_to_doc
from storage.models import (
    Claim,
    Delivery,
    Entity,
    ErrorKind,
    Occurrence,
    Post,
    PostStatus,
    new_id,
    to_millis,
    utc_now,
)
from storage.recurrence import Frequency, Rule

# Occurrences that passed while no bot ran taken in one commit at most (a longer backlog is the
# next commit's): the rule is computed for each.
CATCH_UP_LIMIT = 2000
# Failed occurrences in a row after which a series pauses itself.
FAILURES_TO_PAUSE = 3


class SeriesStatus(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    ENDED = "ended"


class PausedBy(StrEnum):
    OWNER = "owner"
    FAILURES = "failures"


@dataclass(frozen=True)
class Pending:
    """An occurrence committed whose post may not be written yet: its number, when it was due,
    whether it is made as missed (the bot was offline past MAX_LATENESS), and the earlier
    occurrences missed while offline that it tells of."""

    number: int
    due: datetime
    missed: bool = False
    missed_before: int = 0
    missed_since: datetime | None = None


@dataclass(frozen=True)
class SeriesClaim:
    """The worker writing a pending occurrence's post, and until when its lease holds."""

    holder: str
    lease_until: datetime


@dataclass
class Series:
    """A post repeated by a rule. `template` is a post as the New post conversation makes it
    (content, account, targets): each occurrence is a copy of it with an id, a time and fresh
    deliveries of its own, whatever fields a post's content has."""

    series_id: str
    user_id: int
    rule: Rule
    template: Post
    status: SeriesStatus = SeriesStatus.ACTIVE
    # The number the next occurrence gets, and when it is due (None once the series ended).
    next_number: int = 0
    next_time: datetime | None = None
    # Occurrences made so far, missed ones included (the rule's `count` is the most there are).
    made: int = 0
    pending: Pending | None = None
    claim: SeriesClaim | None = None
    # The final statuses of the latest finished occurrences (number → "published", "partial",
    # "failed"), missed ones left out: FAILURES_TO_PAUSE failures in a row pause the series.
    outcomes: dict[int, str] = field(default_factory=dict)
    paused_by: PausedBy | None = None
    # The occurrence whose failure paused the series, and the reason it gave.
    paused_post: str | None = None
    pause_reason: str | None = None
    # Every write adds one; a write holds only over the version it was computed from.
    version: int = 0
    created_at: datetime = field(default_factory=utc_now)

    @property
    def short_id(self) -> str:
        return self.series_id[:6]

    @property
    def remaining(self) -> int | None:
        """Occurrences still to come when the series ends after a number of times, else None."""
        return None if self.rule.count is None else max(self.rule.count - self.made, 0)

    def changed(self, **changes: Any) -> Series:
        """A copy with `changes`, one version on: what a guarded write stores."""
        return replace(self, version=self.version + 1, **changes)


class SeriesError(ValueError):
    """The series cannot start: its rule ends before its first occurrence."""


def occurrence_post_id(series_id: str, number: int) -> str:
    """The id of occurrence `number`'s post: the same for every worker that writes it."""
    return hashlib.sha256(f"{series_id}/{number}".encode()).hexdigest()[:12]


def new_series(user_id: int, rule: Rule, template: Post, now: datetime) -> Series:
    """A series starting with the rule's first occurrence after `now`; SeriesError if it has none."""
    started = rule.starting(now)
    if started is None:
        raise SeriesError("the rule ends before its first occurrence")
    rule, first = started
    series_id = new_id()
    return Series(
        series_id=series_id,
        user_id=user_id,
        rule=rule,
        # Kept under the series' id: the template is no post of its own.
        template=replace(template, post_id=series_id, scheduled_time=to_millis(first), deliveries={}),
        next_time=to_millis(first),
        created_at=now,
    )


def _after(series: Series, moment: datetime) -> datetime | None:
    following = series.rule.next_after(moment)
    return to_millis(following) if following is not None else None


def _ending(series: Series, made: int, following: datetime | None) -> dict[str, Any]:
    """The fields of a series whose next occurrence is `following` after `made` of them."""
    count = series.rule.count
    if following is None or (count is not None and made >= count):
        return {"status": SeriesStatus.ENDED, "next_time": None, "made": made}
    return {"next_time": following, "made": made}


def committed(series: Series, now: datetime, max_lateness: timedelta, holder: str, lease: timedelta) -> Series | None:
    """The series with its due occurrence committed (pending, under `holder`'s claim) and moved on
    to the next one; None if nothing is due (not active, not yet time, or one still pending)."""
    if series.status is not SeriesStatus.ACTIVE or series.pending is not None or series.next_time is None:
        return None
    if series.next_time > now:
        return None
    count = series.rule.count
    due: list[datetime] = []
    moment: datetime | None = series.next_time
    while moment is not None and moment <= now and len(due) < CATCH_UP_LIMIT:
        if count is not None and series.made + len(due) >= count:
            break
        due.append(moment)
        moment = _after(series, moment)
    latest = due[-1]
    pending = Pending(
        number=series.next_number,
        due=latest,
        missed=now - latest > max_lateness,
        missed_before=len(due) - 1,
        missed_since=due[0] if len(due) > 1 else None,
    )
    return series.changed(
        pending=pending,
        claim=SeriesClaim(holder, now + lease),
        next_number=series.next_number + 1,
        **_ending(series, series.made + len(due), moment),
    )


def taken_over(series: Series, now: datetime, holder: str, lease: timedelta) -> Series | None:
    """The series with its pending occurrence's claim taken over by `holder`, if that claim's
    lease ran out; None otherwise (nothing pending, or its worker still holds it)."""
    if series.pending is None or (series.claim is not None and series.claim.lease_until >= now):
        return None
    return series.changed(claim=SeriesClaim(holder, now + lease))


def occurrence_post(series: Series, pending: Pending, now: datetime, claim: Claim | None = None) -> Post:
    """The post of a pending occurrence: a copy of the series' content, due at its time, with
    pending deliveries; `scheduled` for the sweep, or already claimed (`publishing`) by the
    worker that publishes it at once."""
    template = series.template
    return replace(
        template,
        post_id=occurrence_post_id(series.series_id, pending.number),
        scheduled_time=pending.due,
        status=PostStatus.PUBLISHING if claim is not None else PostStatus.SCHEDULED,
        result=None,
        created_at=now,
        published_at=None,
        notified_at=None,
        deliveries={t.target_id: Delivery(target_id=t.target_id, updated_at=now) for t in template.targets},
        claim=claim,
        attempts=1 if claim is not None else 0,
        retry_at=None,
        report_due_at=None,
        report_holder=None,
        delay_noticed_at=None,
        occurrence=Occurrence(series.series_id, pending.number, pending.missed_before, pending.missed_since),
    )


# -- the owner's changes --------------------------------------------------------------------------
def paused(series: Series) -> Series | None:
    """Paused by its owner: no occurrence is made until it is resumed. None if not active."""
    if series.status is not SeriesStatus.ACTIVE:
        return None
    return series.changed(status=SeriesStatus.PAUSED, paused_by=PausedBy.OWNER, paused_post=None, pause_reason=None)


def resumed(series: Series, now: datetime) -> Series | None:
    """Active again from the rule's next occurrence after `now` (the ones passed while paused are
    not made); the failures before the pause are forgotten. None if not paused."""
    if series.status is not SeriesStatus.PAUSED:
        return None
    following = _after(series, now)
    return series.changed(
        status=SeriesStatus.ACTIVE,
        paused_by=None,
        paused_post=None,
        pause_reason=None,
        outcomes={},
        **_ending(series, series.made, following),
    )


def skipped(series: Series, number: int) -> Series | None:
    """Occurrence `number` (the next one) left out: the series goes on with the one after it, and
    a skipped occurrence is not counted among the times the series runs. None if `number` is no
    longer the next occurrence (made meanwhile, or skipped already) or the series is not active."""
    if series.status is not SeriesStatus.ACTIVE or series.next_number != number or series.next_time is None:
        return None
    return series.changed(**_ending(series, series.made, _after(series, series.next_time)))


def ended(series: Series) -> Series | None:
    """Stopped for good by its owner: no occurrence is made any more. None if ended already."""
    if series.status is SeriesStatus.ENDED:
        return None
    return series.changed(status=SeriesStatus.ENDED, next_time=None)


def with_caption(series: Series, caption: str, entities: list[Entity] | None = None) -> Series | None:
    """The next occurrence and those after it carry `caption` (formatted by `entities`). None
    once the series ended."""
    if series.status is SeriesStatus.ENDED:
        return None
    template = replace(series.template, main_caption=caption, caption_entities=list(entities or []))
    return series.changed(template=template)


def with_rule(series: Series, rule: Rule, now: datetime) -> Series | None:
    """The next occurrence and those after it follow `rule`, from its first occurrence after
    `now` (occurrences made so far keep counting towards its number of times). None once the
    series ended, or if the rule has no occurrence left."""
    if series.status is SeriesStatus.ENDED:
        return None
    started = rule.starting(now)
    if started is None:
        return None
    rule, first = started
    moved = replace(series, rule=rule)
    changes = _ending(moved, series.made, to_millis(first))
    if series.status is SeriesStatus.PAUSED and changes.get("status") is not SeriesStatus.ENDED:
        changes["status"] = SeriesStatus.PAUSED
    return series.changed(rule=rule, **changes)


def with_outcome(series: Series, post: Post) -> Series | None:
    """The series told how one of its occurrences ended; paused, with the reason, after
    FAILURES_TO_PAUSE failed occurrences in a row (missed ones while the bot was offline do not
    count). None if it changes nothing (told before, not an occurrence of this series, not final)."""
    occurrence = post.occurrence
    if occurrence is None or occurrence.series_id != series.series_id or not post.status.is_final:
        return None
    if post.status is PostStatus.CANCELLED or _missed_while_offline(post):
        return None
    if series.outcomes.get(occurrence.number) == post.status.value:
        return None
    outcomes = {**series.outcomes, occurrence.number: post.status.value}
    latest = sorted(outcomes)[-FAILURES_TO_PAUSE:]
    outcomes = {number: outcomes[number] for number in latest}
    changes: dict[str, Any] = {"outcomes": outcomes}
    failed = [outcomes[number] == PostStatus.FAILED.value for number in latest]
    if series.status is SeriesStatus.ACTIVE and len(failed) == FAILURES_TO_PAUSE and all(failed):
        changes.update(
            status=SeriesStatus.PAUSED,
            paused_by=PausedBy.FAILURES,
            paused_post=post.post_id,
            pause_reason=_first_reason(post),
        )
    return series.changed(**changes)


def failures_in_a_row(series: Series) -> int:
    """How many of the latest finished occurrences failed, counting back from the last one."""
    count = 0
    for number in sorted(series.outcomes, reverse=True):
        if series.outcomes[number] != PostStatus.FAILED.value:
            break
        count += 1
    return count


def _missed_while_offline(post: Post) -> bool:
    return bool(post.deliveries) and all(d.error_kind is ErrorKind.MISSED for d in post.deliveries.values())


def _first_reason(post: Post) -> str | None:
    for target in post.targets:
        delivery = post.deliveries.get(target.target_id)
        if delivery is not None and delivery.error_message:
            return delivery.error_message
    return None


# -- documents ------------------------------------------------------------------------------------
def rule_to_doc(rule: Rule) -> dict[str, Any]:
    return {
        "frequency": rule.frequency.value,
        "at": rule.at.strftime("%H:%M"),
        "zone": rule.zone,
        "interval": rule.interval,
        "weekdays": list(rule.weekdays),
        "month_day": rule.month_day,
        "start": rule.start.isoformat() if rule.start else None,
        "until": rule.until.isoformat() if rule.until else None,
        "count": rule.count,
    }


def rule_from_doc(doc: dict[str, Any]) -> Rule:
    return Rule(
        frequency=Frequency(doc["frequency"]),
        at=time.fromisoformat(doc["at"]),
        zone=doc["zone"],
        interval=int(doc.get("interval") or 1),
        weekdays=tuple(int(day) for day in doc.get("weekdays") or ()),
        month_day=int(doc.get("month_day") or 1),
        start=date.fromisoformat(doc["start"]) if doc.get("start") else None,
        until=date.fromisoformat(doc["until"]) if doc.get("until") else None,
        count=int(doc["count"]) if doc.get("count") is not None else None,
    )


def series_to_doc(series: Series, times: TimeCodec) -> dict[str, Any]:
    """The series as a document: `status`, `next_time`, `pending`, `claim` and `version` are what
    the stores query and guard on."""
    pending = series.pending
    return {
        "series_id": series.series_id,
        "user_id": series.user_id,
        "status": series.status.value,
        "rule": rule_to_doc(series.rule),
        "template": post_to_doc(series.template, times),
        "next_number": series.next_number,
        "next_time": times.encode(series.next_time) if series.next_time else None,
        "made": series.made,
        "pending": (
            {
                "number": pending.number,
                "due": times.encode(pending.due),
                "missed": pending.missed,
                "missed_before": pending.missed_before,
                "missed_since": times.encode(pending.missed_since) if pending.missed_since else None,
            }
            if pending
            else None
        ),
        "claim": (
            {"holder": series.claim.holder, "lease_until": times.encode(series.claim.lease_until)}
            if series.claim
            else None
        ),
        # Keys of a document are text.
        "outcomes": {str(number): status for number, status in series.outcomes.items()},
        "paused_by": series.paused_by.value if series.paused_by else None,
        "paused_post": series.paused_post,
        "pause_reason": series.pause_reason,
        "version": series.version,
        "created_at": times.encode(series.created_at),
    }


def series_from_doc(doc: dict[str, Any], times: TimeCodec) -> Series:
    pending, claim = doc.get("pending"), doc.get("claim")
    return Series(
        series_id=doc["series_id"],
        user_id=int(doc["user_id"]),
        rule=rule_from_doc(doc["rule"]),
        template=post_from_doc(doc["series_id"], doc["template"], times),
        status=SeriesStatus(doc["status"]),
        next_number=int(doc.get("next_number") or 0),
        next_time=times.decode(doc["next_time"]) if doc.get("next_time") else None,
        made=int(doc.get("made") or 0),
        pending=(
            Pending(
                number=int(pending["number"]),
                due=times.decode(pending["due"]),
                missed=bool(pending.get("missed")),
                missed_before=int(pending.get("missed_before") or 0),
                missed_since=times.decode(pending["missed_since"]) if pending.get("missed_since") else None,
            )
            if pending
            else None
        ),
        claim=SeriesClaim(claim["holder"], times.decode(claim["lease_until"])) if claim else None,
        outcomes={int(number): str(status) for number, status in (doc.get("outcomes") or {}).items()},
        paused_by=PausedBy(doc["paused_by"]) if doc.get("paused_by") else None,
        paused_post=doc.get("paused_post"),
        pause_reason=doc.get("pause_reason"),
        version=int(doc.get("version") or 0),
        created_at=times.decode(doc["created_at"]),
    )
