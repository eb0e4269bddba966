"""Abuse limits: token buckets keyed by client, address or site, and caps on open sockets.

Everything here sits behind two small interfaces, :class:`Limiter` (may this
key spend one more?) and :class:`Gauge` (may this key hold one more open
connection?), so that the per-site and per-address counters can move to a
shared store (Redis, with the same token-bucket arithmetic in a script) when
several workers serve one site.  The implementations here live in process
memory: bounded (a key space an attacker controls cannot exhaust memory) and
expiring (a bucket that has refilled is the same as no bucket, so it is
forgotten).  With several workers each process counts on its own.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

__all__ = [
    "ConnectionLimits",
    "FrameBudgets",
    "Gauge",
    "Limiter",
    "MemoryGauge",
    "MemoryLimiter",
    "TokenBucket",
    "Verdict",
    "take_all",
]

#: Keys one in-memory limiter remembers at most; the least recently used go first.
MAX_KEYS = 100_000


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

    def full_at(self) -> float:
        """When the bucket will be full again (and so no different from a new one)."""
        return self.stamp + (self.burst - self.tokens) / self.rate if self.rate > 0 else 1e300


class Limiter(Protocol):
    """A rate limit shared by everything that names the same key."""

    def take(self, key: str) -> bool:
        """Spend one token of ``key``'s budget; False when it is spent."""

    def refund(self, key: str) -> None:
        """Give back a token taken for something another limit then refused."""


def take_all(*pairs: tuple[Limiter, str]) -> int | None:
    """Take one token from each ``(limiter, key)`` in order; on the first refusal give the
    ones taken back and return its index (None: all taken)."""
    for n, (limiter, key) in enumerate(pairs):
        if not limiter.take(key):
            for earlier, earlier_key in pairs[:n]:
                earlier.refund(earlier_key)
            return n
    return None


class MemoryLimiter:
    """:class:`Limiter` of token buckets in this process, bounded and expiring."""

    __slots__ = ("_buckets", "_burst", "_clock", "_max_keys", "_rate")

    def __init__(
        self,
        rate: float,
        burst: float,
        *,
        max_keys: int = MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._rate, self._burst, self._max_keys, self._clock = rate, burst, max_keys, clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str) -> bool:
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            self._forget(now)
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst, stamp=now)
        else:
            self._buckets.move_to_end(key)
        return bucket.take(now)

    def refund(self, key: str) -> None:
        bucket = self._buckets.get(key)
        if bucket is not None:
            bucket.tokens = min(bucket.burst, bucket.tokens + 1.0)

    def _forget(self, now: float) -> None:
        """Drop buckets that have refilled (oldest first), then any beyond the bound."""
        buckets = self._buckets
        while buckets:
            oldest = next(iter(buckets.values()))
            if oldest.full_at() > now and len(buckets) < self._max_keys:
                break
            buckets.popitem(last=False)


class Gauge(Protocol):
    """Counts what is open under a key (connections per address, per site)."""

    def acquire(self, key: str, cap: int) -> bool:
        """Count one more under ``key`` unless ``cap`` are already open."""

    def release(self, key: str) -> None:
        """One counted under ``key`` closed."""


class MemoryGauge:
    """:class:`Gauge` in this process; a key with nothing open takes no memory."""

    __slots__ = ("_open",)

    def __init__(self) -> None:
        self._open: dict[str, int] = {}

    def count(self, key: str) -> int:
        return self._open.get(key, 0)

    def acquire(self, key: str, cap: int) -> bool:
        held = self._open.get(key, 0)
        if held >= cap:
            return False
        self._open[key] = held + 1
        return True

    def release(self, key: str) -> None:
        held = self._open.get(key, 0) - 1
        if held > 0:
            self._open[key] = held
        else:
            self._open.pop(key, None)


Verdict = Literal["ok", "limited", "flood"]


@dataclass(frozen=True, slots=True)
class FrameBudgets:
    """The limiters every connection of a process draws its frames from."""

    client: Limiter
    """Frames per address and visitor id: what one browser tab may send."""
    address: Limiter
    """Frames per client address, whatever visitor ids it sends."""
    refusals: Limiter
    """Rate-limited frames per address and visitor id: emptied, it is a flood."""


class ConnectionLimits:
    """One connection's frame budgets, and its flood detector.

    The budgets are keyed by the client (address and visitor id) and the
    address alone, and they outlive the connection: reconnecting, or rotating
    visitor ids, does not refill them.  Refused frames spend a budget of
    refusals that refills at the client's own rate: a client that merely runs a
    little fast is throttled, one sending many times the rate is cut off.
    """

    __slots__ = ("_address", "_budgets", "_client")

    def __init__(self, budgets: FrameBudgets, *, address: str, visitor: str) -> None:
        self._budgets, self._address, self._client = budgets, address, f"{address} {visitor}"

    def check(self) -> Verdict:
        budgets = self._budgets
        if take_all((budgets.client, self._client), (budgets.address, self._address)) is None:
            return "ok"
        return "limited" if budgets.refusals.take(self._client) else "flood"
