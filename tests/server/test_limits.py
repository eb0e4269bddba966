"""Token buckets and flood detection."""

from __future__ import annotations

import time

from bpract.visitors.limits import ConnectionLimits, SiteLimits, TokenBucket


def test_bucket_allows_a_burst_then_the_rate() -> None:
    start = time.monotonic()
    bucket = TokenBucket(rate=10, burst=5, stamp=start)
    assert [bucket.take(start) for _ in range(6)] == [True] * 5 + [False]
    assert bucket.take(start + 0.05) is False  # half a token
    assert bucket.take(start + 0.11) is True
    assert bucket.take(start + 100) is True
    assert sum(bucket.take(start + 100) for _ in range(10)) == 4  # capped at the burst


def test_connection_limits_throttle_then_call_a_flood() -> None:
    limits = ConnectionLimits(rate=1, burst=3, flood_refusals=4)
    verdicts = [limits.check() for _ in range(10)]
    assert verdicts[:3] == ["ok"] * 3
    assert verdicts[3:7] == ["limited"] * 4
    assert verdicts[7:] == ["flood"] * 3


def test_site_limits_are_per_site() -> None:
    limits = SiteLimits(rate=0.001, burst=2)
    assert [limits.take(1) for _ in range(3)] == [True, True, False]
    assert limits.take(2) is True
