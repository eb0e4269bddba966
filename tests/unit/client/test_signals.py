"""Attentive dwell, idle, scroll, exit intent, rage clicks: signals and their milestones."""

from __future__ import annotations

from unit.client.support import SECOND, T0, ev, make_engine, page, signals, stay_active


def dwell_seconds(frames: list[dict[str, object]]) -> list[object]:
    return [f["data"]["seconds"] for f in signals(frames, "dwell")]  # type: ignore[index]


def test_page_view_signal_carries_the_page() -> None:
    engine = make_engine()
    engine.handle(page(T0, "/pricing?plan=pro", referrer="https://search.example/q", nav="push"))
    [view] = signals(engine.drain(), "page_view")
    assert view["data"] == {
        "path": "/pricing",
        "url": "https://shop.example/pricing?plan=pro",
        "title": "pricing?plan=pro",
        "referrer": "https://search.example/q",
        "nav": "push",
    }
    assert view["at"] == T0
    assert view["session"] == engine.session_id


def test_same_address_history_calls_are_not_new_page_views() -> None:
    engine = make_engine()
    engine.handle(page(T0, "/pricing"))
    engine.handle(page(T0 + 1, "/pricing#plans", nav="replace"))
    engine.handle(page(T0 + 2, "/pricing", nav="push"))
    engine.handle(page(T0 + 3, "/pricing?plan=pro", nav="replace"))
    engine.handle(page(T0 + 4, "/pricing?plan=pro", nav="load"))  # a reload is a new view
    paths = [f["data"]["url"] for f in signals(engine.drain(), "page_view")]
    assert paths == [
        "https://shop.example/pricing",
        "https://shop.example/pricing?plan=pro",
        "https://shop.example/pricing?plan=pro",
    ]


def test_attentive_dwell_accumulates_with_activity() -> None:
    engine = make_engine()
    engine.handle(page(T0))
    end = stay_active(engine, T0, 120)
    engine.tick(end)
    assert dwell_seconds(engine.drain()) == [10, 30, 60, 120]


def test_hidden_tab_adds_no_dwell() -> None:
    engine = make_engine()
    engine.handle(page(T0))
    engine.handle(ev("vis", T0, visible=False))
    end = stay_active(engine, T0, 300)  # activity events while hidden still add nothing
    engine.tick(end + 60 * SECOND)
    assert dwell_seconds(engine.drain()) == []
    engine.handle(ev("vis", end + 60 * SECOND, visible=True))
    # visible again, but attention starts with the next activity
    stay_active(engine, end + 60 * SECOND, 20)
    assert dwell_seconds(engine.drain()) == [10]


def test_unfocused_window_adds_no_dwell() -> None:
    engine = make_engine()
    engine.handle(page(T0))
    engine.handle(ev("focus", T0 + 5 * SECOND, focused=False))
    end = stay_active(engine, T0, 100)
    engine.tick(end)
    assert dwell_seconds(engine.drain()) == []  # 5 s before the blur is below 10 s
    engine.handle(ev("focus", end, focused=True))
    stay_active(engine, end, 10)
    assert dwell_seconds(engine.drain()) == [10]


def test_no_activity_for_30_seconds_stops_dwell() -> None:
    engine = make_engine()
    engine.handle(page(T0))
    engine.tick(T0 + 10 * 60 * SECOND)  # ten minutes of wall clock, one page load of activity
    assert dwell_seconds(engine.drain()) == [10, 30]
    # exactly 30 s were counted: 30 more attentive seconds reach 60, not sooner
    back = T0 + 10 * 60 * SECOND
    engine.handle(ev("act", back))
    engine.tick(back + 29 * SECOND)
    assert dwell_seconds(engine.drain()) == []
    engine.tick(back + 30 * SECOND)
    assert dwell_seconds(engine.drain()) == [60]


def test_dwell_resets_on_a_new_page_view() -> None:
    engine = make_engine()
    engine.handle(page(T0, "/a"))
    end = stay_active(engine, T0, 20)
    engine.handle(page(end, "/b"))
    engine.tick(end + 5 * SECOND)
    frames = engine.drain()
    assert [(f["data"]["path"], f["data"]["seconds"]) for f in signals(frames, "dwell")] == [
        ("/a", 10)
    ]


def test_time_scale_multiplies_dwell_and_idle_only() -> None:
    engine = make_engine(time_scale=60)
    engine.handle(page(T0))
    engine.handle(ev("scroll", T0, pct=20))
    engine.tick(T0 + 5 * SECOND)  # 5 real seconds = 300 scaled
    frames = engine.drain()
    assert dwell_seconds(frames) == [10, 30, 60, 120, 300]
    assert [f["data"]["seconds"] for f in signals(frames, "idle")] == [30]
    assert signals(frames, "scroll") == []  # 20 % is not scaled into 25 %


def test_idle_signal_once_per_idle_stretch() -> None:
    engine = make_engine()
    engine.handle(page(T0))
    engine.tick(T0 + 29 * SECOND)
    assert signals(engine.drain(), "idle") == []
    engine.tick(T0 + 31 * SECOND)
    engine.tick(T0 + 90 * SECOND)
    assert len(signals(engine.drain(), "idle")) == 1
    engine.handle(ev("act", T0 + 91 * SECOND))
    engine.tick(T0 + 122 * SECOND)
    assert len(signals(engine.drain(), "idle")) == 1


def test_hidden_tab_is_not_idle() -> None:
    engine = make_engine()
    engine.handle(page(T0))
    engine.handle(ev("vis", T0 + SECOND, visible=False))
    engine.tick(T0 + 300 * SECOND)
    assert signals(engine.drain(), "idle") == []
    # idle counts again from when the tab came back
    engine.handle(ev("vis", T0 + 300 * SECOND, visible=True))
    engine.tick(T0 + 320 * SECOND)
    assert signals(engine.drain(), "idle") == []
    engine.tick(T0 + 331 * SECOND)
    assert len(signals(engine.drain(), "idle")) == 1


def test_scroll_milestones_once_each() -> None:
    engine = make_engine()
    engine.handle(page(T0))
    engine.handle(ev("scroll", T0 + 1, pct=60))
    engine.handle(ev("scroll", T0 + 2, pct=40))
    engine.handle(ev("scroll", T0 + 3, pct=100))
    engine.handle(ev("scroll", T0 + 4, pct=100))
    percents = [f["data"]["percent"] for f in signals(engine.drain(), "scroll")]
    assert percents == [25, 50, 75, 100]


def test_exit_intent_once_per_page() -> None:
    engine = make_engine()
    engine.handle(page(T0, "/a"))
    engine.handle(ev("exit", T0 + 1))
    engine.handle(ev("exit", T0 + 2))
    engine.handle(page(T0 + 3, "/b"))
    engine.handle(ev("exit", T0 + 4))
    paths = [f["data"]["path"] for f in signals(engine.drain(), "exit_intent")]
    assert paths == ["/a", "/b"]


def test_rage_click_needs_three_close_clicks_within_a_second() -> None:
    engine = make_engine()
    engine.handle(page(T0))
    click = lambda dt, x, y: engine.handle(  # noqa: E731
        ev("click", T0 + dt, x=x, y=y, target="button#buy")
    )
    click(0, 100, 100)
    click(400, 110, 110)
    click(1_500, 100, 100)  # too late for the first two
    click(1_600, 300, 300)  # too far
    assert signals(engine.drain(), "rage_click") == []
    click(1_900, 105, 95)
    click(2_000, 100, 100)
    [rage] = signals(engine.drain(), "rage_click")
    assert rage["data"] == {"path": "/pricing", "target": "button#buy", "count": 1}


def test_cart_signal_and_cart_contents() -> None:
    engine = make_engine()
    engine.handle(page(T0, "/shop"))
    item = {"id": "sku1", "name": "Mug", "price": 12.5, "qty": 2}
    engine.handle(ev("ecom", T0 + 1, name="add_to_cart", items=[item], value=25, currency="EUR"))
    engine.handle(ev("ecom", T0 + 2, name="view_item", items=[item]))
    engine.handle(
        ev("ecom", T0 + 3, name="remove_from_cart", items=[{**item, "qty": 1}], currency="EUR")
    )
    carts = [f["data"] for f in signals(engine.drain(), "cart")]
    assert [c["action"] for c in carts] == ["add", "remove"]
    assert carts[0] == {"action": "add", "items": [item], "value": 25.0, "currency": "EUR"}
    assert carts[1]["value"] == 12.5  # from the items when the event has no value
    state = engine.snapshot()
    assert state["cart"] == {"sku1": {"name": "Mug", "price": 12.5, "qty": 1}}


def test_track_and_identify_signals_never_carry_the_hash() -> None:
    engine = make_engine()
    engine.handle(page(T0))
    engine.handle(ev("track", T0 + 1, name="video_play", props={"id": 7, "nested": {"x": 1}}))
    engine.handle(ev("identify", T0 + 2, user_id="42", user_hash="ab" * 32, traits={"plan": "pro"}))
    frames = engine.drain()
    assert signals(frames, "track")[0]["data"] == {"name": "video_play", "props": {"id": 7}}
    assert signals(frames, "identify")[0]["data"] == {"user_id": "42", "traits": {"plan": "pro"}}
    assert "ab" * 32 not in repr(frames)
    assert engine.identified


def test_bad_events_are_ignored_without_raising() -> None:
    engine = make_engine()
    for bad in (
        None,
        [],
        "page",
        {"k": "page"},
        {"k": "page", "url": 42},
        {"k": 7},
        {"k": "nope", "at": T0},
        {"k": "scroll", "pct": "lots"},
        {"k": "click", "x": float("nan"), "y": 1},
        {"k": "ecom", "name": "add_to_cart", "items": "many"},
        {"k": "vis", "visible": "yes"},
        {"k": "identify", "user_id": None},
        {"k": "act", "at": "yesterday"},
    ):
        engine.handle(bad)  # type: ignore[arg-type]
    assert engine.page is None
    assert [f for f in engine.drain() if f["t"] == "signal" and f["name"] != "cart"] == []


def test_times_and_numbers_out_of_range_read_as_absent() -> None:
    """A fallback visitor's event at 1e20 ms once moved the engine's clock out of int64."""
    engine = make_engine()
    engine.handle(page(T0))
    engine.handle({**page(T0, "/cart"), "at": 1e20})
    engine.handle({**page(T0, "/help"), "at": 10**30})
    engine.handle(ev("scroll", T0, pct=1e300))
    frames = engine.drain()
    assert {f["at"] for f in frames} == {T0}
    assert all(abs(v) <= 2**53 for f in frames for v in f["data"].values() if type(v) is int)  # type: ignore[attr-defined]
