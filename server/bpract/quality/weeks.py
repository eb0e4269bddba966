"""ISO weeks in UTC: ``2026-W48`` ↔ the milliseconds it spans."""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["last_weeks", "week_bounds", "week_of"]

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_DAY_MS = 86_400_000


def week_bounds(week: str) -> tuple[int, int]:
    """``[start_ms, end_ms)`` of ISO week ``week`` (Monday 00:00 UTC to the next Monday)."""
    match = _WEEK.match(week)
    if match is None:
        raise ValueError(f"a week is written like 2026-W48, not {week!r}")
    try:
        monday = dt.date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ValueError(f"{week} is not a week of {match[1]}") from None
    start = dt.datetime(monday.year, monday.month, monday.day, tzinfo=dt.UTC)
    start_ms = int(start.timestamp() * 1000)
    return start_ms, start_ms + 7 * _DAY_MS


def week_of(at_ms: int) -> str:
    """The ISO week holding the instant ``at_ms``."""
    year, week, _ = dt.datetime.fromtimestamp(at_ms / 1000, dt.UTC).isocalendar()
    return f"{year}-W{week:02d}"


def last_weeks(now_ms: int, count: int) -> list[str]:
    """The ``count`` weeks ending with the one holding ``now_ms``, oldest first."""
    return [week_of(now_ms - k * 7 * _DAY_MS) for k in range(count - 1, -1, -1)]
