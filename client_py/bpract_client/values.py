"""Defensive readers for untrusted JSON values: a wrong type reads as absent."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["Scalar", "as_bool", "as_int", "as_num", "as_str", "scalar_map"]

Scalar = str | int | float | bool | None

_KEYS_KEEP = 30
_KEY_CHARS = 64
_TEXT_CHARS = 256
#: Largest magnitude of a number read (JavaScript's safe integers): an int beyond it would not
#: fit the server's 64-bit columns, and a time beyond it is hostile, not a clock.
_NUM_LIMIT = 2**53


def as_num(value: Any) -> float | None:
    """A finite number (not a bool) within ``±2**53``, else ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if abs(value) > _NUM_LIMIT or not math.isfinite(value):  # abs first: a huge int has no float
        return None
    return float(value)


def as_int(value: Any) -> int | None:
    number = as_num(value)
    return None if number is None else int(number)


def as_str(value: Any, limit: int = _TEXT_CHARS) -> str | None:
    return value[:limit] if isinstance(value, str) else None


def as_bool(value: Any) -> bool | None:
    return value if isinstance(value, bool) else None


def _scalar(value: Any) -> tuple[bool, Scalar]:
    if value is None or isinstance(value, bool):
        return True, value
    if isinstance(value, str):
        return True, value[:_TEXT_CHARS]
    number = as_num(value)
    if isinstance(value, int) and number is not None:
        return True, value
    return number is not None, number


def scalar_map(value: Any) -> dict[str, Scalar]:
    """A small flat map: string keys, JSON scalar values, bounded sizes; the rest is dropped."""
    if not isinstance(value, dict):
        return {}
    out: dict[str, Scalar] = {}
    for key, raw in value.items():
        ok, clean = _scalar(raw)
        if ok and isinstance(key, str) and key and len(out) < _KEYS_KEEP:
            out[key[:_KEY_CHARS]] = clean
    return out
