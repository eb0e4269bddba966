"""Date arithmetic the billing and delivery rules need: months and weekdays."""

from __future__ import annotations

import calendar
import datetime as dt

__all__ = ["add_months", "is_weekday", "next_weekday"]


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` later, clamped to the month's last day (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def is_weekday(day: dt.date) -> bool:
    return day.weekday() < 5


def next_weekday(day: dt.date, count: int) -> dt.date:
    """The ``count``-th weekday after ``day``."""
    while count > 0:
        day += dt.timedelta(days=1)
        count -= is_weekday(day)
    return day
