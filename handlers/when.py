"""Times at the edges: reading what a person typed in their zone, and showing times back."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

import dateparser

MAX_AHEAD = timedelta(days=365)
# A typed time this close to now counts as "now" rather than "in the past".
NOW_SLACK = timedelta(seconds=60)


@dataclass(frozen=True)
class TimeChoice:
    """A parsed publication time, or the reason it cannot be used."""

    when: datetime | None = None
    problem: str | None = None


def check_time(when: datetime, now: datetime) -> TimeChoice:
    """`when` if it lies in the future and within a year of `now`, else the reason why not."""
    if when <= now - NOW_SLACK:
        return TimeChoice(problem="past")
    if when - now > MAX_AHEAD:
        return TimeChoice(problem="too_far")
    return TimeChoice(when=max(when, now))


def quick_time(choice: str, zone: str, now: datetime) -> TimeChoice:
    """The time a quick button stands for: in 1 hour, today 18:00, tomorrow 09:00, now."""
    local_now = now.astimezone(ZoneInfo(zone))
    if choice == "now":
        return TimeChoice(when=now)
    if choice == "1h":
        return TimeChoice(when=now + timedelta(hours=1))
    if choice == "today18":
        return check_time(local_now.replace(hour=18, minute=0, second=0, microsecond=0), now)
    if choice == "tomorrow9":
        tomorrow = (local_now + timedelta(days=1)).replace(hour=9, minute=0, second=0, microsecond=0)
        return check_time(tomorrow, now)
    return TimeChoice(problem="unreadable")


def parse_time(text: str, zone: str, now: datetime) -> TimeChoice:
    """What the person typed (`2026-12-01 18:30`, `tomorrow 9am`, `in 2 hours`) as UTC."""
    cleaned = " ".join(text.strip().split())
    if not cleaned or len(cleaned) > 100:
        return TimeChoice(problem="unreadable")
    if cleaned.lower() in ("now", "right now", "immediately"):
        return TimeChoice(when=now)
    local_now = now.astimezone(ZoneInfo(zone)).replace(tzinfo=None)
    parsed = dateparser.parse(
        cleaned,
        languages=["en"],
        settings={
            "TIMEZONE": zone,
            "TO_TIMEZONE": "UTC",
            "RETURN_AS_TIMEZONE_AWARE": True,
            "PREFER_DATES_FROM": "future",
            "RELATIVE_BASE": local_now,
            "DATE_ORDER": "DMY",
        },
    )
    if parsed is None:
        return TimeChoice(problem="unreadable")
    return check_time(parsed.astimezone(UTC), now)


def warm_up() -> None:
    """Load dateparser's language data now rather than on a person's first message."""
    parse_time("tomorrow 9am", "UTC", datetime.now(UTC))


def local(when: datetime, zone: str) -> datetime:
    return when.astimezone(ZoneInfo(zone))


def format_time(when: datetime, zone: str) -> str:
    """`Tue 1 Dec 18:30 (Europe/Berlin)`, with the year when it is not this year's."""
    moment = local(when, zone)
    year = "" if moment.year == datetime.now(ZoneInfo(zone)).year else f" {moment.year}"
    return f"{moment:%a} {moment.day} {moment:%b}{year} {moment:%H:%M} ({zone})"


def format_relative(when: datetime, now: datetime) -> str:
    """`in 3 h 20 min`, `in 45 s`, `now`, or `5 min ago`."""
    seconds = int((when - now).total_seconds())
    ago = seconds < 0
    seconds = abs(seconds)
    if seconds < 5:
        return "now"
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        text = f"{days} d {hours} h" if hours else f"{days} d"
    elif hours:
        text = f"{hours} h {minutes} min" if minutes else f"{hours} h"
    elif minutes:
        text = f"{minutes} min"
    else:
        text = f"{secs} s"
    return f"{text} ago" if ago else f"in {text}"


@functools.cache
def _zones_by_lower_name() -> dict[str, str]:
    return {zone.lower(): zone for zone in available_timezones()}


def find_zones(text: str) -> list[str]:
    """IANA zones matching what the person typed: `Europe/Berlin`, `berlin`, `New York`."""
    wanted = "_".join(text.strip().split()).lower()
    if not wanted:
        return []
    zones = _zones_by_lower_name()
    if wanted in zones:
        return [zones[wanted]]
    if wanted in ("utc", "gmt", "z"):
        return ["UTC"]
    by_city = sorted(
        zone
        for lower, zone in zones.items()
        if lower.rsplit("/", 1)[-1] == wanted and not lower.startswith(("etc/", "posix/", "right/"))
    )
    if by_city:
        return by_city
    return sorted(
        zone
        for lower, zone in zones.items()
        if wanted in lower.rsplit("/", 1)[-1] and "/" in lower and not lower.startswith(("posix/", "right/"))
    )[:8]
