"""Reconnect delays and the close codes that end reconnecting."""

from __future__ import annotations

import random

import pytest

from bpract_client.backoff import Backoff, should_reconnect
from bpract_client.protocol import CloseCode


def test_ceiling_doubles_from_half_a_second_to_thirty() -> None:
    backoff = Backoff(lambda: 0.999999)
    delays = [round(backoff.next_delay(), 3) for _ in range(9)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_full_jitter_stays_within_the_ceiling() -> None:
    rng = random.Random(7)
    backoff = Backoff(rng.random)
    for attempt in range(200):
        ceiling = min(30.0, 0.5 * 2**attempt)
        assert 0.0 <= backoff.next_delay() <= ceiling


def test_jitter_uses_the_random_source() -> None:
    backoff = Backoff(lambda: 0.25)
    assert [backoff.next_delay() for _ in range(3)] == [0.125, 0.25, 0.5]


def test_reset_starts_again() -> None:
    backoff = Backoff(lambda: 1.0)
    for _ in range(10):
        backoff.next_delay()
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_many_attempts_do_not_overflow() -> None:
    backoff = Backoff(lambda: 1.0)
    backoff.attempts = 10_000
    assert backoff.next_delay() == 30.0


@pytest.mark.parametrize("code", [4401, 4403, 4404])
def test_no_reconnect_after_final_refusals(code: int) -> None:
    assert not should_reconnect(code)


@pytest.mark.parametrize("code", [1000, 1001, 1006, 1009, 1011, 4400, 4408, 4429])
def test_reconnect_after_other_closes(code: int) -> None:
    assert should_reconnect(code)


def test_close_code_names() -> None:
    assert CloseCode.UNSUPPORTED_VERSION == 4401
    assert CloseCode.FORBIDDEN_ORIGIN == 4403
    assert CloseCode.UNKNOWN_SITE == 4404
    assert CloseCode.HELLO_TIMEOUT == 4408
