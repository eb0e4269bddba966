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


_CONTAINERS = (dict, list, tuple)


def _scalar_problem(value: object) -> str | None:
    kind = type(value)
    if kind is str:
        too_long = len(value) > MAX_FREE_TEXT_CHARS  # type: ignore[arg-type]
        return f"a string over {MAX_FREE_TEXT_CHARS} characters" if too_long else None
    if kind is int or kind is float:
        return "a number beyond ±2**53 or not finite" if unsafe_number(value) else None
    if value is None or kind is bool:
        return None
    return f"a value of type {kind.__name__}"


def _problem(value: object) -> str | None:
    """What is wrong with one free-form value, or None (a loop, not recursion: no depth limit)."""
    if type(value) not in _CONTAINERS:
        return _scalar_problem(value)
    stack: list[tuple[Any, int]] = [(value, 1)]
    count = 0
    while stack:
        item, depth = stack.pop()
        if depth > MAX_FREE_DEPTH:
            return f"objects or arrays nested more than {MAX_FREE_DEPTH} deep"
        count += len(item)
        if count > MAX_FREE_VALUES:
            return f"more than {MAX_FREE_VALUES} values"
        if type(item) is dict:
            for key in item:
                if type(key) is not str or len(key) > MAX_FREE_KEY_CHARS:
                    return f"a key that is not a string of at most {MAX_FREE_KEY_CHARS} characters"
            children = item.values()
        else:
            children = item
        for child in children:
            if type(child) in _CONTAINERS:
                stack.append((child, depth + 1))
            elif (problem := _scalar_problem(child)) is not None:
                return problem
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
