"""The one wall clock: milliseconds since the epoch, passed around as ``Clock`` for tests."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["Clock", "now_ms"]

#: A source of wall-clock milliseconds; services take one so tests can move time.
Clock = Callable[[], int]


def now_ms() -> int:
    """Milliseconds since the Unix epoch."""
    return time.time_ns() // 1_000_000
