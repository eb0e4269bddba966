"""Token buckets, keyed limiters, connection gauges, flood detection and client addresses."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

from bpract.settings import SettingsError
from bpract.visitors.address import TrustedProxies, address_key
from bpract.visitors.limits import (
    ConnectionLimits,
    FrameBudgets,
    MemoryGauge,
    MemoryLimiter,
    TokenBucket,
    take_all,
)
from bpract.visitors.settings import VisitorSettings
from bpract_client.client import PING_AFTER_MS


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_bucket_allows_a_burst_then_the_rate() -> None:
    start = time.monotonic()
    bucket = TokenBucket(rate=10, burst=5, stamp=start)
    assert [bucket.take(start) for _ in range(6)] == [True] * 5 + [False]
    assert bucket.take(start + 0.05) is False  # half a token
    assert bucket.take(start + 0.11) is True
    assert bucket.take(start + 100) is True
    assert sum(bucket.take(start + 100) for _ in range(10)) == 4  # capped at the burst


def _budgets(clock: Clock, *, address_burst: int = 100) -> FrameBudgets:
    return FrameBudgets(
        client=MemoryLimiter(1, 3, clock=clock),
        address=MemoryLimiter(1, address_burst, clock=clock),
        refusals=MemoryLimiter(1, 4, clock=clock),
    )


def test_connection_limits_throttle_then_call_a_flood() -> None:
    limits = ConnectionLimits(_budgets(Clock()), address="192.0.2.1", visitor="v_a")
    verdicts = [limits.check() for _ in range(10)]
    assert verdicts[:3] == ["ok"] * 3
    assert verdicts[3:7] == ["limited"] * 4
    assert verdicts[7:] == ["flood"] * 3


def test_a_reconnect_does_not_refill_the_burst() -> None:
    budgets = _budgets(Clock())
    first = ConnectionLimits(budgets, address="192.0.2.1", visitor="v_a")
    assert [first.check() for _ in range(3)] == ["ok"] * 3
    again = ConnectionLimits(budgets, address="192.0.2.1", visitor="v_a")  # a new connection
    assert again.check() == "limited"
    elsewhere = ConnectionLimits(budgets, address="192.0.2.2", visitor="v_a")
    assert elsewhere.check() == "ok"


def test_rotating_visitor_ids_share_the_address_budget() -> None:
    budgets = _budgets(Clock(), address_burst=5)
    verdicts = [
        ConnectionLimits(budgets, address="192.0.2.1", visitor=f"v_{n}").check() for n in range(8)
    ]
    assert verdicts == ["ok"] * 5 + ["limited"] * 3


def test_keyed_limiter_is_per_key_and_forgets_full_buckets() -> None:
    clock = Clock()
    limiter = MemoryLimiter(rate=1, burst=2, clock=clock)
    assert [limiter.take("a") for _ in range(3)] == [True, True, False]
    assert limiter.take("b") is True
    clock.now += 10  # both refilled: no different from new ones, so forgotten
    assert limiter.take("c") is True
    assert len(limiter) == 1


def test_keyed_limiter_is_bounded() -> None:
    limiter = MemoryLimiter(rate=0.001, burst=1, max_keys=3, clock=Clock())
    for n in range(10):
        limiter.take(f"k{n}")
    assert len(limiter) <= 3


def test_gauge_caps_and_releases() -> None:
    gauge = MemoryGauge()
    assert [gauge.acquire("a", 2) for _ in range(3)] == [True, True, False]
    gauge.release("a")
    assert gauge.acquire("a", 2) is True
    for _ in range(2):
        gauge.release("a")
    assert gauge.count("a") == 0


def test_address_keys_group_an_ipv6_subscriber() -> None:
    assert address_key("192.0.2.7") == "192.0.2.7"
    assert address_key("2001:db8:1:2::5") == address_key("2001:db8:1:2:ffff::1")
    assert address_key("2001:db8:1:2::5") != address_key("2001:db8:1:3::5")
    assert address_key("::ffff:192.0.2.7") == "192.0.2.7"


def test_forwarded_for_is_believed_only_from_a_trusted_proxy() -> None:
    headers = {"x-forwarded-for": "198.51.100.9, 203.0.113.5"}
    assert TrustedProxies.parse("").client("127.0.0.1", headers) == "127.0.0.1"
    proxies = TrustedProxies.parse("127.0.0.1, 10.0.0.0/8")
    assert proxies.client("192.0.2.1", headers) == "192.0.2.1"  # not our proxy: ignored
    assert proxies.client("127.0.0.1", headers) == "203.0.113.5"  # the right-most hop
    chained = {"x-forwarded-for": "203.0.113.5, 10.1.2.3"}
    assert proxies.client("127.0.0.1", chained) == "203.0.113.5"
    assert proxies.client("127.0.0.1", {}) == "127.0.0.1"


def test_a_trusted_proxy_that_is_no_address_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="BPRACT_TRUSTED_PROXIES"):
        TrustedProxies.parse("10.0.0.0/8, proxy.internal")


def test_take_all_gives_back_what_it_took_when_a_later_limit_refuses() -> None:
    clock = Clock()
    first, second = MemoryLimiter(1, 2, clock=clock), MemoryLimiter(1, 0, clock=clock)
    assert take_all((first, "a"), (second, "a")) == 1
    assert take_all((first, "a"), (first, "a")) is None  # both tokens are still there
    assert take_all((first, "a")) == 0


def test_the_engine_and_the_fallback_ping_well_within_the_idle_timeout() -> None:
    fallback = Path(__file__).parents[2] / "widget" / "src" / "fallback.js"
    found = re.search(r"send\(\{ t: T_PING \}\), (\d+)\)", fallback.read_text(encoding="utf-8"))
    assert found is not None
    idle_ms = VisitorSettings().idle_timeout * 1000
    # a hidden tab's timers may fire late (Chrome aligns them to a minute): keep a margin
    for every_ms in (PING_AFTER_MS, int(found[1])):
        assert every_ms + 60_000 < idle_ms
