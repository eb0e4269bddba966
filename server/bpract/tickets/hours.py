"""Business hours: the rules' schedule format (``days``, ``start``, ``end``, ``tz``), checked.

No hours set means always open.  A problem is refused with the field at fault
(``hours.days[2]``) and, for a misspelt key or day, the closest known one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bpract.shape import UnreadableDocumentError, read_document, suggest
from bpract.tickets.errors import TicketSettingsError
from bpract_client.rules import Schedule, Weekday, in_schedule

__all__ = ["hours_from_text", "is_open", "parse_hours"]

_KEYS = tuple(f.name for f in dataclasses.fields(Schedule))
_DAYS: tuple[str, ...] = get_args(Weekday)


def _clock(value: object, field: str) -> str:
    # YAML 1.1 reads an unquoted 18:00 as 1080 (minutes): read it back as a time
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 24 * 60:
        value = f"{value // 60:02d}:{value % 60:02d}"
    if not isinstance(value, str):
        raise TicketSettingsError(field, f'{field} must be a time HH:MM, like "09:00"')
    return value


def _days(days: object, field: str) -> list[str]:
    if not isinstance(days, list) or not days:
        raise TicketSettingsError(field, "days is a list like [mon, tue, wed]")
    for n, day in enumerate(days):
        if day not in _DAYS:
            raise TicketSettingsError(
                f"{field}[{n}]", f"unknown day {day!r}{suggest(str(day), _DAYS)}"
            )
    return list(days)


def _zone(tz: object, field: str) -> str:
    try:
        if isinstance(tz, str) and tz:
            ZoneInfo(tz)
            return tz
    except (ZoneInfoNotFoundError, ValueError):
        pass
    raise TicketSettingsError(field, f"{tz!r} is not a time zone (an IANA name like Europe/Paris)")


def parse_hours(raw: object, field: str = "hours") -> Schedule | None:
    """The schedule ``raw`` describes (None: always open); :class:`TicketSettingsError` if not
    one."""
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        raise TicketSettingsError(
            field, f"{field} is a mapping of days, start, end and tz (or null: always open)"
        )
    for key in raw:
        if key not in _KEYS:
            raise TicketSettingsError(
                f"{field}.{key}", f"unknown key {key!r}{suggest(str(key), _KEYS)}"
            )
    values: dict[str, Any] = {}
    if "days" in raw:
        values["days"] = _days(raw["days"], f"{field}.days")
    for key in ("start", "end"):
        if key in raw:
            values[key] = _clock(raw[key], f"{field}.{key}")
    if "tz" in raw:
        values["tz"] = _zone(raw["tz"], f"{field}.tz")
    try:
        return Schedule(**values)
    except ValueError as exc:
        name = str(exc).split(" ", 1)[0].split(".")[-1]
        raise TicketSettingsError(f"{field}.{name}", str(exc)) from None


def hours_from_text(text: str) -> Schedule | None:
    """Hours from a YAML or JSON document (``bpract tickets settings --hours-file``)."""
    try:
        raw = read_document(text)
    except UnreadableDocumentError as exc:
        raise TicketSettingsError(exc.error.path, exc.error.message) from None
    if isinstance(raw, Mapping) and set(raw) == {"hours"}:
        raw = raw["hours"]
    return parse_hours(raw)


def is_open(hours: Schedule | None, now_ms: int) -> bool:
    """Within business hours (always, when none are set)."""
    return hours is None or in_schedule(hours, now_ms)
