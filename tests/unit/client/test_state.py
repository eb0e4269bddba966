"""Visitor state: sessions, bounds, and a round trip that survives garbage."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from bpract_client.session import SESSION_TIMEOUT_MS, new_session_id, touch_session
from bpract_client.state import VIEWS_KEEP, VisitorState
from unit.client.support import DAY, MINUTE, T0, ev, make_engine, page


def test_session_id_format() -> None:
    ids = {new_session_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"n_[A-Za-z0-9_-]{22}", i) for i in ids)


def test_session_times_out_after_30_minutes_without_activity() -> None:
    engine = make_engine()
    engine.handle(page(T0))
    first = engine.session_id
    engine.handle(ev("act", T0 + 29 * MINUTE))
    engine.handle(ev("act", T0 + 58 * MINUTE))  # 29 min after the last activity
    assert engine.session_id == first
    engine.handle(ev("act", T0 + 58 * MINUTE + SESSION_TIMEOUT_MS + 1))
    assert engine.session_id != first
    assert engine.snapshot()["sessions"] == 2


def test_visibility_changes_do_not_keep_a_session_alive() -> None:
    engine = make_engine()
    engine.handle(page(T0))
    first = engine.session_id
    engine.handle(ev("vis", T0 + 20 * MINUTE, visible=False))
    engine.handle(ev("vis", T0 + 40 * MINUTE, visible=True))
    engine.handle(ev("act", T0 + 41 * MINUTE))
    assert engine.session_id != first


def test_frames_carry_the_current_session() -> None:
    engine = make_engine()
    engine.handle(page(T0))
    engine.handle(page(T0 + 31 * MINUTE, "/b"))
    views = [f for f in engine.drain() if f.get("name") == "page_view"]
    assert views[0]["session"] != views[1]["session"]
    assert views[1]["session"] == engine.session_id


def test_first_seen_and_session_count() -> None:
    state = VisitorState()
    assert touch_session(state, T0, new_id=lambda: "n_a")
    assert not touch_session(state, T0 + MINUTE, new_id=lambda: "n_b")
    assert touch_session(state, T0 + 2 * DAY, new_id=lambda: "n_c")
    assert (state.first_seen, state.sessions, state.session and state.session.id) == (T0, 2, "n_c")


def test_page_views_are_bounded_by_age_and_count() -> None:
    state = VisitorState()
    for i in range(VIEWS_KEEP + 50):
        state.add_view(T0 + i * MINUTE, f"/p{i}")
    assert len(state.views) == VIEWS_KEEP
    assert state.views[-1] == (T0 + (VIEWS_KEEP + 49) * MINUTE, f"/p{VIEWS_KEEP + 49}")
    state.add_view(T0 + 91 * DAY, "/late")
    assert state.views == [(T0 + 91 * DAY, "/late")]


def test_cart_changes_are_bounded() -> None:
    state = VisitorState()
    for i in range(300):
        state.add_cart_change(T0 + i, "add")
    assert len(state.cart_changes) == 200
    state.add_cart_change(T0 + 2 * DAY, "remove")
    assert state.cart_changes == [(T0 + 2 * DAY, "remove")]


def test_state_round_trip_through_json() -> None:
    engine = make_engine()
    engine.handle(page(T0, "/?utm_source=mail", referrer="https://mail.example/"))
    engine.handle(ev("identify", T0 + 1, user_id="9", traits={"plan": "pro"}))
    item = {"id": "s", "name": "Mug", "price": 3.5, "qty": 2}
    engine.handle(ev("ecom", T0 + 2, name="add_to_cart", items=[item], currency="EUR"))
    snapshot = json.loads(json.dumps(engine.snapshot()))
    again = make_engine(state=snapshot)
    assert again.snapshot() == snapshot
    assert again.session_id == engine.session_id
    assert again.identified
    assert snapshot["session"]["utm_source"] == "mail"
    assert snapshot["session"]["referrer"] == "mail.example"


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        "state",
        [],
        42,
        {"v": 99},
        {"sessions": "many", "first_seen": "today", "session": "n_x", "traits": [1]},
        {"views": [[1, 2], "x", [None, "/a"], [5, "/ok"]], "cart_changes": {"a": 1}},
        {"session": {"id": 5}, "cart": {"a": {"qty": "x"}, "b": 3, "c": {"qty": 1, "price": "?"}}},
        {"views": [[float("inf"), "/a"]], "session": {"id": "n_x", "number": -3}},
    ],
)
def test_garbled_state_starts_fresh_without_raising(garbage: Any) -> None:
    engine = make_engine(state=garbage)
    engine.handle(page(T0))
    snapshot = engine.snapshot()
    assert json.loads(json.dumps(snapshot, allow_nan=False)) == snapshot
    assert snapshot["sessions"] >= 1
    assert engine.session_id is not None


def test_partly_garbled_state_keeps_what_is_readable() -> None:
    state = VisitorState.from_dict(
        {"views": [[1, 2], [T0, "/ok"]], "user_id": 5, "cart": {"c": {"qty": 1, "price": "?"}}}
    )
    assert state.views == [(T0, "/ok")]
    assert state.user_id is None
    assert state.cart["c"].qty == 1 and state.cart["c"].price == 0.0
