"""Checks on rule input that types alone cannot express: globs, time zones, durations."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Iterator
from typing import Any

from bpract.triggers.errors import FieldError
from bpract.triggers.shape import join_path
from bpract_client.rules import parse_duration

__all__ = ["RESERVED_IDS", "check_rule"]

_GLOB_BAD_CHARS = re.compile(r"[\s\x00-\x1f\x7f]")
_GLOB_MAX = 300
_PATH_GLOB_KEYS = ("page", "not_page")
_HOST_GLOB_KEYS = ("utm_source", "referrer")
#: words the REST API uses beside rule ids under /rules/
RESERVED_IDS = frozenset({"report", "versions", "validate"})


def _glob_problem(glob: object, *, path_glob: bool) -> str | None:
    if not isinstance(glob, str):
        return None  # the type check reports it
    if not glob:
        return "a glob cannot be empty"
    if len(glob) > _GLOB_MAX:
        return f"a glob is at most {_GLOB_MAX} characters"
    if _GLOB_BAD_CHARS.search(glob):
        return f"glob {glob!r} contains whitespace or a control character"
    if path_glob and not glob.startswith(("/", "*")):
        return f"page globs match the URL path: start {glob!r} with '/' (or '*')"
    return None


def _globs(when: dict[str, Any], path: str) -> Iterator[FieldError]:
    for key in (*_PATH_GLOB_KEYS, *_HOST_GLOB_KEYS):
        values = when.get(key)
        if not isinstance(values, list):
            continue
        if not values:
            yield FieldError(path=join_path(path, key), message="list at least one glob")
        for index, glob in enumerate(values):
            problem = _glob_problem(glob, path_glob=key in _PATH_GLOB_KEYS)
            if problem:
                yield FieldError(path=join_path(join_path(path, key), index), message=problem)
    visits = when.get("visits")
    if isinstance(visits, dict):
        problem = _glob_problem(visits.get("page"), path_glob=True)
        if problem:
            yield FieldError(path=join_path(join_path(path, "visits"), "page"), message=problem)


def _schedule(schedule: dict[str, Any], path: str) -> Iterator[FieldError]:
    tz = schedule.get("tz")
    if isinstance(tz, str):
        try:
            zoneinfo.ZoneInfo(tz)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            yield FieldError(
                path=join_path(path, "tz"),
                message=f"unknown time zone {tz!r} (use an IANA name such as Europe/Paris)",
            )
    if schedule.get("days") == []:
        yield FieldError(path=join_path(path, "days"), message="no days: the rule would never run")
    start, end = schedule.get("start"), schedule.get("end")
    if isinstance(start, str) and start == end:
        yield FieldError(path=join_path(path, "end"), message="start and end are the same time")


def check_rule(rule: dict[str, Any], path: str) -> list[FieldError]:
    """Problems in one raw rule mapping, each with its path."""
    errors: list[FieldError] = []
    if rule.get("id") in RESERVED_IDS:
        errors.append(FieldError(path=join_path(path, "id"), message="this id is reserved"))
    when = rule.get("when")
    if isinstance(when, dict):
        errors.extend(_globs(when, join_path(path, "when")))
    schedule = rule.get("schedule")
    if isinstance(schedule, dict):
        errors.extend(_schedule(schedule, join_path(path, "schedule")))
    cooldown = rule.get("cooldown")
    if isinstance(cooldown, str | int | float) and not isinstance(cooldown, bool):
        try:
            parse_duration(cooldown)
        except ValueError as exc:
            errors.append(FieldError(path=join_path(path, "cooldown"), message=str(exc)))
    return errors
