"""Token buckets: per-connection and per-site frame rates, and flood detection."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

__all__ = ["ConnectionLimits", "SiteLimits", "TokenBucket", "Verdict"]


@dataclass(slots=True)
class TokenBucket:
    """``rate`` tokens per second, at most ``burst`` saved up."""

    rate: float
    burst: float
    tokens: float = -1.0
    stamp: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        if self.tokens < 0:
            self.tokens = self.burst

    def take(self, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class SiteLimits:
    """One bucket per site, shared by that site's connections in this process."""

    def __init__(self, rate: float, burst: int) -> None:
        self._rate, self._burst = rate, burst
        self._buckets: dict[int, TokenBucket] = {}

    def take(self, site_id: int) -> bool:
        bucket = self._buckets.get(site_id)
        if bucket is None:
            bucket = self._buckets[site_id] = TokenBucket(self._rate, self._burst)
        return bucket.take()


Verdict = Literal["ok", "limited", "flood"]


class ConnectionLimits:
    """A connection's frame bucket, plus a bucket of refusals: emptying that one is a flood.

    Refusals drain at the connection's own rate, so a client that merely runs a
    little fast is throttled, while one sending many times the rate is cut off.
    """

    __slots__ = ("_frames", "_refusals")

    def __init__(self, rate: float, burst: int, flood_refusals: int) -> None:
        self._frames = TokenBucket(rate, burst)
        self._refusals = TokenBucket(rate, flood_refusals)

    def check(self) -> Verdict:
        now = time.monotonic()
        if self._frames.take(now):
            return "ok"
        return "limited" if self._refusals.take(now) else "flood"
