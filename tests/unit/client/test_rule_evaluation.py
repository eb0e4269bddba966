"""Rule evaluation in the engine: every condition, priority, once per page, suppression."""

from __future__ import annotations

from typing import Any

import pytest

from bpract_client.engine import Engine
from unit.client.support import (
    DAY,
    MINUTE,
    SECOND,
    T0,
    ev,
    fired,
    make_engine,
    page,
    rule,
    ruleset,
    stay_active,
)


def only(engine: Engine) -> list[str]:
    return fired(engine.drain())


def add(at: int) -> dict[str, Any]:
    item = {"id": "sku", "name": "Mug", "price": 10, "qty": 1}
    return ev("ecom", at, name="add_to_cart", items=[item], value=10, currency="EUR")


def remove(at: int) -> dict[str, Any]:
    item = {"id": "sku", "name": "Mug", "price": 10, "qty": 1}
    return ev("ecom", at, name="remove_from_cart", items=[item], value=10, currency="EUR")


@pytest.mark.parametrize(
    ("patterns", "path", "expected"),
    [
        (["/pricing*"], "/pricing/teams", True),
        (["/pricing"], "/pricing?billing=annual", True),
        (["/pricing?billing=*"], "/pricing?billing=annual", True),
        (["/p?icing"], "/pricing", True),
        (["/blog/*", "/docs/*"], "/docs/setup", True),
        (["/pricing"], "/pricing/teams", False),
        (["/blog/*"], "/pricing", False),
    ],
)
def test_page_globs(patterns: list[str], path: str, expected: bool) -> None:
    engine = make_engine(rule("r", page=patterns), rule("n", not_page=patterns))
    engine.handle(page(T0, path))
    assert only(engine) == (["r"] if expected else ["n"])


def test_attentive_seconds() -> None:
    engine = make_engine(rule("r", attentive_seconds=60))
    engine.handle(page(T0))
    end = stay_active(engine, T0, 50)
    assert only(engine) == []
    stay_active(engine, end, 10)
    assert only(engine) == ["r"]


def test_attentive_seconds_with_time_scale() -> None:
    engine = make_engine(rule("r", attentive_seconds=60), time_scale=60)
    engine.handle(page(T0))
    engine.tick(T0 + 999)
    assert only(engine) == []
    engine.tick(T0 + 1_000)
    assert only(engine) == ["r"]


def test_visits_across_sessions_within_the_window() -> None:
    visits = {"page": "/account/cancel*", "count": 2, "days": 7}
    engine = make_engine(rule("r", visits=visits))
    engine.handle(page(T0, "/account/cancel"))
    assert only(engine) == []
    engine.handle(page(T0 + 2 * DAY, "/account/cancel?step=1"))  # another session
    assert only(engine) == ["r"]
    state = engine.snapshot()
    assert state["sessions"] == 2
    # eight days after the second visit, neither older visit is in the window
    later = make_engine(rule("r", visits=visits), state=state)
    later.handle(page(T0 + 10 * DAY, "/account/cancel"))
    assert only(later) == []
    later.handle(page(T0 + 10 * DAY + MINUTE, "/account/cancel"))
    assert only(later) == ["r"]


def test_cart_churn_counts_adds_and_removes_in_the_window() -> None:
    engine = make_engine(rule("r", cart_churn={"changes": 3, "minutes": 10}))
    engine.handle(page(T0, "/cart"))
    engine.handle(add(T0))
    engine.handle(remove(T0 + 5 * MINUTE))
    assert only(engine) == []
    engine.handle(add(T0 + 11 * MINUTE))  # the first change fell out of the window
    assert only(engine) == []
    engine.handle(remove(T0 + 12 * MINUTE))
    frames = engine.drain()
    assert fired(frames) == ["r"]
    [fire] = [f for f in frames if f["t"] == "fire"]
    assert fire["context"]["signals"]["cart_churn"] == 3
    assert fire["context"]["cart"] == {"items": 0, "value": 0, "currency": "EUR"}


def test_scroll_exit_idle_and_rage() -> None:
    engine = make_engine(
        rule("scroll", scroll_percent=50),
        rule("exit", exit_intent=True),
        rule("stay", exit_intent=False),
        rule("idle", idle_seconds=45),
        rule("rage", rage_clicks=1),
    )
    engine.handle(page(T0))
    assert only(engine) == ["stay"]
    engine.handle(ev("scroll", T0 + 1, pct=49))
    engine.handle(ev("scroll", T0 + 2, pct=50))
    assert only(engine) == ["scroll"]
    engine.handle(ev("exit", T0 + 3))
    assert only(engine) == ["exit"]
    for dt in (10, 20, 30):
        engine.handle(ev("click", T0 + 1_000 + dt, x=5, y=5))
    assert only(engine) == ["rage"]
    engine.tick(T0 + 1_030 + 44 * SECOND)
    assert only(engine) == []
    engine.tick(T0 + 1_030 + 45 * SECOND)
    assert only(engine) == ["idle"]


def test_visitor_identified_traits_device() -> None:
    rules = [
        rule("new", visitor="new"),
        rule("returning", visitor="returning"),
        rule("known", identified=True),
        rule("anon", identified=False),
        rule("pro", traits={"plan": "pro"}),
        rule("no-plan", traits={"plan": None}),
        rule("mobile", device=["mobile", "tablet"]),
        rule("desktop", device=["desktop"]),
    ]
    engine = make_engine(*rules, device="mobile")
    engine.handle(page(T0))
    assert sorted(only(engine)) == ["anon", "mobile", "new", "no-plan"]
    engine.handle(ev("identify", T0 + 1, user_id="7", traits={"plan": "pro"}))
    assert sorted(only(engine)) == ["known", "pro"]
    later = make_engine(*rules, state=engine.snapshot())
    later.handle(page(T0 + DAY))
    assert sorted(only(later)) == ["desktop", "known", "pro", "returning"]


def test_utm_source_and_referrer_are_the_sessions_first() -> None:
    engine = make_engine(
        rule("ads", utm_source=["google*"]),
        rule("news", utm_source=["newsletter"]),
        rule("hn", referrer=["news.ycombinator.com", "*.reddit.com"]),
    )
    engine.handle(page(T0, "/?utm_source=Google_Ads", referrer="https://news.ycombinator.com/item"))
    assert sorted(only(engine)) == ["ads", "hn"]
    # a later page in the same session keeps the first source
    engine.handle(page(T0 + MINUTE, "/x?utm_source=newsletter", referrer="https://shop.example/"))
    assert sorted(only(engine)) == ["ads", "hn"]
    # a new session starts from its own first page
    engine.handle(page(T0 + 2 * DAY, "/?utm_source=newsletter", referrer="https://shop.example/"))
    assert only(engine) == ["news"]


def test_all_conditions_must_hold() -> None:
    engine = make_engine(rule("r", page=["/pricing"], scroll_percent=50, identified=False))
    engine.handle(page(T0, "/pricing"))
    engine.handle(ev("identify", T0 + 1, user_id="1"))
    engine.handle(ev("scroll", T0 + 2, pct=80))
    assert only(engine) == []


def test_priority_orders_fires_and_disabled_rules_never_fire() -> None:
    engine = make_engine(
        rule("low", priority=1),
        rule("off", priority=99, enabled=False),
        rule("high", priority=10),
        rule("mid-a", priority=5),
        rule("mid-b", priority=5),
    )
    engine.handle(page(T0))
    assert only(engine) == ["high", "mid-a", "mid-b", "low"]


def test_fires_once_per_page_view() -> None:
    engine = make_engine(rule("r", page=["/pricing"]))
    engine.handle(page(T0))
    engine.handle(ev("scroll", T0 + 1, pct=30))
    engine.tick(T0 + 5 * SECOND)
    assert only(engine) == ["r"]
    engine.handle(page(T0 + 6 * SECOND, "/pricing"))  # reloaded: a new page view
    assert only(engine) == ["r"]


def test_suppressed_while_chat_open_then_fires_when_closed() -> None:
    engine = make_engine(rule("r", attentive_seconds=10))
    engine.handle(page(T0))
    engine.handle(ev("ui", T0 + 1, chat_open=True))
    stay_active(engine, T0, 20)
    assert only(engine) == []
    engine.handle(ev("ui", T0 + 21 * SECOND, chat_open=False))
    assert only(engine) == ["r"]


def test_suppressed_while_a_field_has_focus() -> None:
    engine = make_engine(rule("r", scroll_percent=50))
    engine.handle(page(T0))
    engine.handle(ev("ui", T0 + 1, field_focus=True))
    engine.handle(ev("scroll", T0 + 2, pct=60))
    engine.tick(T0 + 10 * SECOND)
    assert only(engine) == []
    engine.handle(ev("ui", T0 + 11 * SECOND, field_focus=False))
    assert only(engine) == ["r"]


def test_condition_gone_before_suppression_lifts_does_not_fire() -> None:
    engine = make_engine(rule("r", exit_intent=False))
    engine.handle(ev("ui", T0, chat_open=True))
    engine.handle(page(T0))
    engine.handle(ev("exit", T0 + 1))
    engine.handle(ev("ui", T0 + 2, chat_open=False))
    assert only(engine) == []


def test_policy_can_turn_suppression_off() -> None:
    engine = make_engine(rule("r"), suppress_while_chat_open=False, suppress_while_typing=False)
    engine.handle(ev("ui", T0, chat_open=True, field_focus=True))
    engine.handle(page(T0))
    assert only(engine) == ["r"]


def test_new_ruleset_is_evaluated_at_once() -> None:
    engine = make_engine()
    engine.handle(page(T0))
    engine.drain()
    engine.set_ruleset(ruleset(rule("r", page=["/pricing"]), version=4))
    [fire] = [f for f in engine.drain() if f["t"] == "fire"]
    assert (fire["rule"], fire["rule_version"]) == ("r", 4)


def test_fire_frame_and_context() -> None:
    visits = {"page": "/pricing*", "count": 1, "days": 7}
    engine = make_engine(rule("r", attentive_seconds=10, visits=visits), device="tablet")
    engine.handle(page(T0, "/", referrer="https://news.ycombinator.com/"))
    engine.handle(page(T0 + SECOND, "/pricing?utm_source=hn"))
    engine.handle(ev("scroll", T0 + 2 * SECOND, pct=42))
    stay_active(engine, T0 + SECOND, 10, step=5)
    [fire] = [f for f in engine.drain() if f["t"] == "fire"]
    assert set(fire) == {"t", "at", "session", "rule", "rule_version", "context"}
    assert fire["at"] == T0 + 11 * SECOND
    assert fire["session"] == engine.session_id
    assert fire["context"] == {
        "page": "/pricing?utm_source=hn",
        "title": "pricing?utm_source=hn",
        "signals": {
            "attentive_seconds": 10.0,
            "scroll_percent": 42,
            "idle_seconds": 0.0,
            "exit_intent": False,
            "rage_clicks": 0,
            "visits": 1,
        },
        "cart": {"items": 0, "value": 0, "currency": None},
        "journey": ["/", "/pricing?utm_source=hn"],
        "session": 1,
        "visitor": "new",
        "identified": False,
        "device": "tablet",
        "utm_source": "hn",
        "referrer": "news.ycombinator.com",
    }


def test_nothing_fires_before_the_first_page_view() -> None:
    engine = make_engine(rule("r"))
    engine.handle(ev("act", T0))
    engine.tick(T0 + 60 * SECOND)
    assert only(engine) == []
