"""The compiled ruleset JSON the server sends, read back into the rule dataclasses."""

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
    Message,
    Policy,
    Rule,
    Ruleset,
    Schedule,
    Visits,
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
    ],
)


def test_round_trip_of_the_servers_encoding() -> None:
    data = json.loads(msgspec.json.encode(FULL))
    parsed = ruleset_from_dict(data)
    assert parsed == FULL
    assert parsed.rules[0].cooldown_seconds == 3600


def test_unknown_keys_are_ignored() -> None:
    data = json.loads(msgspec.json.encode(FULL))
    data["future"] = 1
    data["rules"][0]["when"]["future_condition"] = {"x": 1}
    data["rules"][0]["message"]["cta"]["style"] = "bold"
    assert ruleset_from_dict(data) == FULL


def test_defaults_fill_in() -> None:
    parsed = ruleset_from_dict({"rules": [{"id": "a", "message": {"text": "hi"}}]})
    assert parsed.version == 0
    assert parsed.policy == Policy()
    assert parsed.rules[0].when == Conditions()


@pytest.mark.parametrize(
    "data",
    [
        {"rules": "nope"},
        {"rules": [1]},
        {"rules": [{"id": "a"}]},  # no message
        {"rules": [{"id": "Bad Id", "message": {"text": "x"}}]},
        {"rules": [{"id": "a", "message": {"text": ""}}]},
        {"rules": [{"id": "a", "message": {"text": "x"}, "when": []}]},
        {
            "rules": [
                {"id": "a", "message": {"text": "x"}, "when": {"visits": {"page": "/", "days": 91}}}
            ]
        },
        {"rules": [{"id": "a", "message": {"text": "x"}}, {"id": "a", "message": {"text": "y"}}]},
        {"policy": "strict"},
        {"policy": {"interruption_budget": -1}},
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
