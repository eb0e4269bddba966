"""The outbox: seq numbering, acks, resend order, welcome trimming, bounds, persistence."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bpract_client.outbox import Outbox


def sig(n: int) -> dict[str, Any]:
    return {"t": "signal", "at": n, "session": "n_x", "name": "dwell", "data": {"seconds": n}}


def fire(n: int) -> dict[str, Any]:
    return {"t": "fire", "at": n, "session": "n_x", "rule": "r", "rule_version": 1, "context": {}}


def seqs(box: Outbox) -> list[int]:
    return [f["seq"] for f in box.pending()]


def test_push_numbers_from_one_and_returns_the_numbered_frame() -> None:
    box = Outbox()
    first = box.push(sig(1))
    second = box.push(fire(2))
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first == {**sig(1), "seq": 1}
    assert box.pending() == [first, second]


def test_ack_removes_only_the_acknowledged() -> None:
    box = Outbox()
    for n in range(5):
        box.push(sig(n))
    box.ack([2, 4, 99])
    assert seqs(box) == [1, 3, 5]
    box.ack([1, 3, 5])
    assert seqs(box) == []
    assert box.push(sig(9))["seq"] == 6  # numbers are never reused


def test_welcome_drops_what_the_server_stored_and_never_reuses_seqs() -> None:
    box = Outbox()
    box.on_welcome(0)
    for n in range(5):
        box.push(sig(n))
    box.on_welcome(3)
    assert seqs(box) == [4, 5]
    fresh = Outbox()
    fresh.on_welcome(41)  # the outbox was lost but the stream lives on
    assert fresh.push(sig(1))["seq"] == 42


def test_bounded_drops_signals_before_other_frames() -> None:
    box = Outbox(max_frames=4)
    box.push(fire(1))
    box.push(sig(2))
    box.push(fire(3))
    box.push(sig(4))
    box.push(fire(5))  # drops the oldest signal (seq 2)
    assert seqs(box) == [1, 3, 4, 5]
    box.push(fire(6))  # drops seq 4, the only signal left
    box.push(fire(7))  # no signal left: the oldest frame goes
    assert seqs(box) == [3, 5, 6, 7]
    assert box.dropped == 3
    assert len(box) == 4


def test_round_trip_through_json() -> None:
    box = Outbox()
    for n in range(4):
        box.push(sig(n) if n % 2 else fire(n))
    box.ack([2])
    data = json.loads(json.dumps(box.to_dict()))
    again = Outbox.from_dict(data)
    assert again.pending() == box.pending()
    assert again.push(sig(9))["seq"] == 5
    assert again.to_dict()["dropped"] == 0


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        "x",
        [],
        {"next_seq": "a", "frames": "b"},
        {"frames": [1, {"seq": 1}, {"t": "signal", "seq": True}, {"t": "signal", "seq": -1}]},
    ],
)
def test_garbage_starts_empty(garbage: Any) -> None:
    box = Outbox.from_dict(garbage)
    assert box.pending() == []
    assert box.push(sig(1))["seq"] == 1


def test_partly_garbled_keeps_valid_frames_in_order() -> None:
    frames = [
        {"t": "signal", "seq": 3},
        {"t": "fire", "seq": 2},  # out of order: dropped
        "junk",
        {"t": "fire", "seq": 7},
    ]
    box = Outbox.from_dict({"next_seq": 1, "frames": frames, "dropped": "x"})
    assert seqs(box) == [3, 7]
    assert box.push(sig(1))["seq"] == 8  # past the highest kept, even if next_seq says less
    assert box.dropped == 0


def test_provisional_frames_start_after_stored_and_restored_frames() -> None:
    box = Outbox.from_dict({"next_seq": 4, "frames": [{"t": "fire", "seq": 3}]})
    box.push(sig(1))
    box.push(sig(2))  # provisional 4, 5
    assert box.on_welcome(stored_seq=6) == {4: 7, 5: 8}
    assert seqs(box) == [7, 8]  # the restored 3 is stored already
    assert box.push(sig(3))["seq"] == 9


def test_provisional_frames_keep_their_numbers_when_nothing_collides() -> None:
    box = Outbox.from_dict({"next_seq": 4, "frames": [{"t": "fire", "seq": 3}]})
    box.push(sig(1))
    assert box.on_welcome(stored_seq=2) == {}
    assert seqs(box) == [3, 4]


def test_provisional_numbers_stay_provisional_across_a_reload() -> None:
    first = Outbox()
    first.push(sig(1))
    again = Outbox.from_dict(first.to_dict())
    assert again.on_welcome(stored_seq=10) == {1: 11}
    assert seqs(again) == [11]


def test_after_the_first_welcome_numbers_are_final() -> None:
    box = Outbox()
    box.on_welcome(stored_seq=0)
    box.push(sig(1))
    box.push(sig(2))
    assert box.on_welcome(stored_seq=1) == {}
    assert seqs(box) == [2]
