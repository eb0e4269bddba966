"""The ruleset the browser receives (the engine view), and the engine reading it back."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from bpract_client.rules import (
    CTA,
    Cap,
    CartChurn,
    Conditions,
    EngineRuleset,
    Message,
    Policy,
    Rule,
    Ruleset,
    Schedule,
    Suppression,
    Trigger,
    Visits,
    engine_view,
    glob_match,
    ruleset_from_dict,
)

FULL = Ruleset(
    version=3,
    policy=Policy(interruption_budget=1, suppress_while_typing=False),
    rules=[
        Rule(
            id="pricing-offer",
            name="Offer help on pricing",
            department="sales",
            priority=10,
            when=Conditions(
                page=["/pricing*"],
                attentive_seconds=60,
                visits=Visits(page="/pricing*", count=2, days=7),
                cart_churn=CartChurn(changes=3, minutes=10),
                identified=False,
                traits={"plan": None, "seats": 3},
                device=["desktop"],
            ),
            goal="Help them choose.",
            message=Message(text="Comparing plans?", cta=CTA(label="See", url="/pricing")),
            offers=["annual-20"],
            cap=Cap(count=1, days=7),
            cooldown="1h",
            holdout=10,
            schedule=Schedule(days=["mon"], start="08:00", end="17:00", tz="Europe/Paris"),
        ),
        Rule(id="plain", message=Message(text="Hello")),
        Rule(id="paused", enabled=False, message=Message(text="Not now")),
    ],
)
ENGINE = EngineRuleset(
    version=3,
    policy=Suppression(suppress_while_typing=False),
    rules=[
        Trigger(id="pricing-offer", priority=10, when=FULL.rules[0].when),
        Trigger(id="plain"),
    ],
)
#: what the server alone uses: none of it may reach the browser
SERVER_ONLY = ("name", "department", "goal", "message", "offers", "cap", "cooldown", "holdout",
               "schedule", "on_decider_failure", "enabled", "interruption_budget")  # fmt: skip


def test_the_engine_view_keeps_only_what_evaluation_needs() -> None:
    view = engine_view(FULL)
    assert view == {
        "version": 3,
        "policy": {"suppress_while_chat_open": True, "suppress_while_typing": False},
        "rules": [
            {
                "id": "pricing-offer",
                "priority": 10,
                "when": {
                    "page": ["/pricing*"],
                    "attentive_seconds": 60,
                    "visits": {"page": "/pricing*", "count": 2, "days": 7},
                    "cart_churn": {"changes": 3, "minutes": 10},
                    "identified": False,
                    "traits": {"plan": None, "seats": 3},
                    "device": ["desktop"],
                },
            },
            {"id": "plain", "priority": 0, "when": {}},
        ],
    }
    text = json.dumps(view)
    for key in SERVER_ONLY:
        assert f'"{key}"' not in text
    for value in ("Help them choose.", "Comparing plans?", "annual-20", "Europe/Paris", "sales"):
        assert value not in text


def test_the_engine_reads_its_view_back() -> None:
    parsed = ruleset_from_dict(json.loads(json.dumps(engine_view(FULL))))
    assert parsed == ENGINE


def test_a_full_compiled_ruleset_also_reads_as_the_engine_view() -> None:
    data = json.loads(msgspec.json.encode(FULL))
    assert ruleset_from_dict(data) == ENGINE  # server-only keys ignored, disabled rules skipped


def test_unknown_keys_are_ignored() -> None:
    data = engine_view(FULL)
    data["future"] = 1
    data["rules"][0]["when"]["future_condition"] = {"x": 1}
    data["rules"][0]["style"] = "bold"
    assert ruleset_from_dict(data) == ENGINE


def test_defaults_fill_in() -> None:
    parsed = ruleset_from_dict({"rules": [{"id": "a"}]})
    assert parsed.version == 0
    assert parsed.policy == Suppression()
    assert parsed.rules[0] == Trigger(id="a", priority=0, when=Conditions())


@pytest.mark.parametrize(
    "data",
    [
        {"rules": "nope"},
        {"rules": [1]},
        {"rules": [{"priority": 1}]},  # no id
        {"rules": [{"id": "Bad Id"}]},
        {"rules": [{"id": "a", "when": []}]},
        {"rules": [{"id": "a", "when": {"visits": {"page": "/", "days": 91}}}]},
        {"rules": [{"id": "a", "when": {"scroll_percent": 101}}]},
        {"rules": [{"id": "a"}, {"id": "a"}]},
        {"policy": "strict"},
    ],
)
def test_malformed_rulesets_raise_value_error(data: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        ruleset_from_dict(data)


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("/pricing", "/pricing", True),
        ("/pricing*", "/pricing", True),
        ("/pricing*", "/pricing/teams?x=1", True),
        ("/pricing", "/pricing?billing=annual", True),
        ("/pricing?billing=annual", "/pricing?billing=annual", True),
        ("/p?icing", "/pricing", True),
        ("*", "", True),
        ("/docs/*.html", "/docs/a/b.html", True),
        ("/pricing", "/pricing/", False),
        ("/pricing", "/Pricing", False),
        ("/p?icing", "/picing", False),
        ("/a.b", "/axb", False),  # regex characters are literal
        ("/blog/(x)+", "/blog/xx", False),
        ("/pricing?billing=annual", "/pricing?billing=monthly", False),
    ],
)
def test_glob_match(pattern: str, text: str, expected: bool) -> None:
    assert glob_match(pattern, text) is expected
