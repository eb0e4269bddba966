"""Builders for raw events, rules and engines used by the engine tests."""

from __future__ import annotations

import itertools
from typing import Any

from bpract_client.engine import Engine
from bpract_client.rules import Ruleset, ruleset_from_dict

T0 = 1_764_000_000_000  # a fixed epoch-ms start; tests add seconds to it
SECOND = 1_000
MINUTE = 60 * SECOND
DAY = 24 * 60 * MINUTE
ORIGIN = "https://shop.example"


def ev(k: str, at: int, **fields: Any) -> dict[str, Any]:
    return {"k": k, "at": at, **fields}


def page(
    at: int, path: str = "/pricing", *, referrer: str = "", nav: str = "load"
) -> dict[str, Any]:
    return ev(
        "page", at, url=ORIGIN + path, title=path.strip("/") or "home", referrer=referrer, nav=nav
    )


def rule(rule_id: str, *, priority: int = 0, enabled: bool = True, **when: Any) -> dict[str, Any]:
    return {
        "id": rule_id,
        "priority": priority,
        "enabled": enabled,
        "when": when,
        "message": {"text": f"message of {rule_id}"},
    }


def ruleset(*rules: dict[str, Any], version: int = 1, **policy: Any) -> Ruleset:
    return ruleset_from_dict({"version": version, "policy": policy, "rules": list(rules)})


def sequential_ids() -> Any:
    counter = itertools.count(1)
    return lambda: f"n_{next(counter):022d}"


def make_engine(
    *rules: dict[str, Any],
    state: dict[str, Any] | None = None,
    device: str = "desktop",
    time_scale: float = 1.0,
    **policy: Any,
) -> Engine:
    return Engine(
        ruleset=ruleset(*rules, **policy),
        state=state,
        device=device,
        time_scale=time_scale,
        new_id=sequential_ids(),
    )


def signals(frames: list[dict[str, Any]], name: str | None = None) -> list[dict[str, Any]]:
    return [f for f in frames if f["t"] == "signal" and (name is None or f["name"] == name)]


def fired(frames: list[dict[str, Any]]) -> list[str]:
    return [f["rule"] for f in frames if f["t"] == "fire"]


def stay_active(engine: Engine, start: int, seconds: int, step: int = 10) -> int:
    """Activity every ``step`` seconds for ``seconds``; returns the end time."""
    at = start
    for _ in range(seconds // step):
        at += step * SECOND
        engine.handle(ev("act", at))
    return at
