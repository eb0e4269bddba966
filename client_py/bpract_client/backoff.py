"""Reconnect delays: exponential from 0.5 s doubling to 30 s, with full jitter."""

from __future__ import annotations

from collections.abc import Callable

from .protocol import NO_RECONNECT

__all__ = ["Backoff", "should_reconnect"]


def should_reconnect(code: int) -> bool:
    """False after a close the server means for good (bad version, origin, site)."""
    return code not in NO_RECONNECT


class Backoff:
    """Delay before reconnect attempt n: uniform in [0, min(cap, base * 2**n)]."""

    def __init__(self, rand: Callable[[], float], *, base: float = 0.5, cap: float = 30.0) -> None:
        self._rand = rand
        self._base = base
        self._cap = cap
        self.attempts = 0

    def ceiling(self) -> float:
        # min() before the power would overflow: 2**attempts grows without bound
        return min(self._cap, self._base * 2.0 ** min(self.attempts, 32))

    def next_delay(self) -> float:
        ceiling = self.ceiling()
        self.attempts += 1
        return min(ceiling, max(0.0, self._rand() * ceiling))

    def reset(self) -> None:
        """After a connection that worked (welcomed), start again from the base delay."""
        self.attempts = 0
