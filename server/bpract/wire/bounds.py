"""Bounds of the free-form JSON objects of client frames (``data``, ``context``, ``traits``…).

msgspec bounds a typed field with ``Meta``; an object whose shape the client
chooses is walked once here instead, without recursion, so that nothing too
deep, too big or numerically unsafe reaches a handler or the database.
"""

from __future__ import annotations

import math
from typing import Any

from bpract.wire.codes import (
    MAX_FREE_DEPTH,
    MAX_FREE_KEY_CHARS,
    MAX_FREE_TEXT_CHARS,
    MAX_FREE_VALUES,
    MAX_SAFE_INT,
)

__all__ = ["check_free", "check_time", "unsafe_number"]


def unsafe_number(value: object) -> bool:
    """True for a number a client may not send: not finite, or beyond ``±MAX_SAFE_INT``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return abs(value) > MAX_SAFE_INT or not math.isfinite(value)  # abs first: 10**400 has no float


def _scalar_problem(value: object) -> str | None:
    if isinstance(value, str):
        too_long = len(value) > MAX_FREE_TEXT_CHARS
        return f"a string over {MAX_FREE_TEXT_CHARS} characters" if too_long else None
    if unsafe_number(value):
        return "a number beyond ±2**53 or not finite"
    if value is None or isinstance(value, bool | int | float):
        return None
    return f"a value of type {type(value).__name__}"


def _problem(value: object) -> str | None:
    """What is wrong with one free-form value, or None."""
    stack: list[tuple[object, int]] = [(value, 1)]
    count = 0
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
            for key in item:
                if not isinstance(key, str) or len(key) > MAX_FREE_KEY_CHARS:
                    return f"a key that is not a string of at most {MAX_FREE_KEY_CHARS} characters"
        elif isinstance(item, list | tuple):
            children = item
        else:
            problem = _scalar_problem(item)
            if problem is not None:
                return problem
            continue
        if depth > MAX_FREE_DEPTH:
            return f"objects or arrays nested more than {MAX_FREE_DEPTH} deep"
        count += len(children)
        if count > MAX_FREE_VALUES:
            return f"more than {MAX_FREE_VALUES} values"
        stack.extend((child, depth + 1) for child in children)
    return None


def check_free(name: str, value: object) -> None:
    """Raise ``ValueError`` (msgspec: ``invalid``) if field ``name`` is out of bounds."""
    problem = _problem(value)
    if problem is not None:
        raise ValueError(f"`{name}` holds {problem}")


def check_time(name: str, value: object) -> None:
    """Raise ``ValueError`` unless ``value`` is absent or a time in ``0..MAX_SAFE_INT`` ms."""
    if value is None:
        return
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not number or unsafe_number(value) or value < 0:  # type: ignore[operator]
        raise ValueError(f"`{name}` is not a time in milliseconds within 0..2**53")
