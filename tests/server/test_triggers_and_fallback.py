"""The visitor socket with the trigger service and the server-side engine, on a real server."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from bpract.sites import Site, user_hash
from bpract.triggers.policy import holdout_bucket
from server.conftest import ORIGIN, rows
from support.eventually import eventually_async
from support.server import ServerProcess
from support.sites import make_site, make_token
from support.visitor import VisitorClient, new_id

RULES = """
rules:
  - id: pricing-offer
    when: {page: ["/pricing*"]}
    message:
      text: "Comparing plans? I can help."
      cta: {label: "See plans", url: "/pricing"}
"""


@pytest.fixture(scope="module")
def token(live_server: ServerProcess) -> str:
    return make_token(live_server.db)


@pytest.fixture(scope="module")
def ruleset_version(live_server: ServerProcess, live_site: Site, token: str) -> int:
    response = httpx.put(
        f"{live_server.url}/api/sites/{live_site.public_key}/rules",
        content=RULES,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/yaml"},
    )
    assert response.status_code == 200, response.text
    return int(response.json()["version"])


async def test_rule_changes_are_pushed_to_connected_visitors(
    live_server: ServerProcess, live_site: Site, token: str
) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await client.hello(live_site.public_key)
    async with httpx.AsyncClient() as http:
        response = await http.put(
            f"{live_server.url}/api/sites/{live_site.public_key}/rules",
            content=RULES,
            headers={"Authorization": f"Bearer {token}"},
        )
    assert response.status_code == 200, response.text
    pushed, _ = await client.recv_until("rules")
    assert pushed["ruleset"]["version"] == response.json()["version"]
    assert [r["id"] for r in pushed["ruleset"]["rules"]] == ["pricing-offer"]
    await client.close()


async def test_fire_of_a_rule_is_answered_with_outreach(
    live_server: ServerProcess, live_site: Site, ruleset_version: int
) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    welcome = await client.hello(live_site.public_key)
    assert welcome["ruleset"]["version"] >= ruleset_version
    fire = {
        "t": "fire",
        "seq": 1,
        "at": int(time.time() * 1000),
        "session": "n_fire",
        "rule": "pricing-offer",
        "rule_version": welcome["ruleset"]["version"],
        "context": {"page": "/pricing"},
    }
    await client.send(fire)
    assert await client.recv() == {"t": "ack", "seq": [1]}
    outreach, _ = await client.recv_until("outreach")
    assert outreach["rule"] == "pricing-offer"
    assert outreach["message"] == "Comparing plans? I can help."
    assert outreach["cta"] == {"label": "See plans", "url": "/pricing"}
    assert outreach["id"].startswith("o_")
    # A resent copy of the fire is acknowledged, not decided again.
    await client.send(fire)
    assert await client.recv() == {"t": "ack", "seq": [1]}
    await client.send(
        {"t": "outcome", "seq": 2, "at": 1, "outreach": outreach["id"], "kind": "shown"}
    )
    assert await client.recv() == {"t": "ack", "seq": [2]}
    await client.send({"t": "ping"})
    assert await client.recv() == {"t": "pong"}
    await client.close()
    fires = rows(live_server.db, "SELECT count(*) FROM fires WHERE visitor = ?", client.visitor)
    assert fires == [(1,)]
    outcomes = "SELECT kind FROM outcomes WHERE visitor = ?"
    # the outcome is recorded in a task after the ack
    await eventually_async(lambda: rows(live_server.db, outcomes, client.visitor), 5.0)
    assert rows(live_server.db, "SELECT kind FROM outcomes WHERE visitor = ?", client.visitor) == [
        ("shown",)
    ]


def page_event(at: int, url: str) -> dict[str, object]:
    return {"k": "page", "at": at, "url": url, "title": "Pricing", "referrer": "", "nav": "load"}


async def test_server_engine_turns_raw_events_into_signals_and_outreach(
    live_server: ServerProcess, live_site: Site, ruleset_version: int
) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    welcome = await client.hello(live_site.public_key, engine="server")
    assert welcome["config"]["raw_events"] is True
    now = int(time.time() * 1000)
    await client.send(
        {
            "t": "event",
            "seq": 1,
            "at": now,
            "event": page_event(now, "https://shop.example/pricing"),
        }
    )
    assert await client.recv() == {"t": "ack", "seq": [1]}
    outreach, _ = await client.recv_until("outreach")
    assert outreach["rule"] == "pricing-offer"
    await client.close()
    names = rows(
        live_server.db, "SELECT DISTINCT name FROM signals WHERE visitor = ?", client.visitor
    )
    assert names, "the server-side engine recorded no signal"
    saved = "SELECT count(*) FROM engine_states WHERE visitor = ?"
    # state is saved when the connection ends
    await eventually_async(lambda: rows(live_server.db, saved, client.visitor), 5.0, equals=[(1,)])
    assert rows(
        live_server.db, "SELECT count(*) FROM engine_states WHERE visitor = ?", client.visitor
    ) == [(1,)]


async def test_server_engine_refuses_an_unsigned_identify_event(
    live_server: ServerProcess, live_site: Site
) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await client.hello(live_site.public_key, engine="server")
    bad = {"k": "identify", "at": 1, "user_id": "9", "user_hash": "ab" * 32, "traits": {}}
    await client.send({"t": "event", "seq": 1, "at": 1, "event": bad})
    assert await client.recv() == {"t": "ack", "seq": [1]}
    error = await client.recv()
    assert (error["code"], error["seq"]) == ("identity_rejected", 1)
    good = {**bad, "user_hash": user_hash(live_site.identity_secret, "9")}
    await client.send({"t": "event", "seq": 2, "at": 2, "event": good})
    assert await client.recv() == {"t": "ack", "seq": [2]}
    await client.send({"t": "ping"})
    assert await client.recv() == {"t": "pong"}
    await client.close()
    assert rows(live_server.db, "SELECT user_id FROM visitors WHERE id = ?", client.visitor) == [
        ("9",)
    ]


#: A ruleset whose server-only parts are distinctive: none of them may reach a visitor.
SECRET_RULES = """
policy: {interruption_budget: 9}
rules:
  - id: pricing-offer
    name: Zebra campaign label
    department: department-quokka
    priority: 5
    when: {page: ["/pricing*"]}
    goal: "GOAL-SECRET: upsell the annual plan, never mention the refund policy"
    offers: [offer-secret-annual-33]
    holdout: 0.37
    cap: {count: 97, days: 13.5}
    cooldown: 41m
    on_decider_failure: skip
    message:
      text: "MESSAGE-SECRET: comparing plans?"
      cta: {label: "CTA-SECRET label", url: "/cta-secret-path"}
  - id: quiet-hours
    when: {page: ["/nowhere"]}
    goal: "GOAL-SECRET-2"
    schedule: {days: [sat], start: "07:15", end: "08:45", tz: Pacific/Chatham}
    message: {text: "MESSAGE-SECRET-2"}
  - id: paused-secret-rule
    enabled: false
    when: {page: ["/pricing*"]}
    message: {text: "MESSAGE-SECRET-3"}
"""
SERVER_ONLY_KEYS = ("name", "department", "goal", "offers", "holdout", "cap", "cooldown",
                    "schedule", "on_decider_failure", "message", "cta", "enabled",
                    "interruption_budget")  # fmt: skip
SERVER_ONLY_VALUES = ("Zebra", "quokka", "SECRET", "secret", "0.37", "13.5", "2460", "Chatham",
                      "07:15", "08:45", "skip")  # fmt: skip


def assert_nothing_server_only(ruleset: dict[str, Any]) -> None:
    text = json.dumps(ruleset)
    for key in SERVER_ONLY_KEYS:
        assert f'"{key}"' not in text, f"{key!r} reached the browser: {text}"
    for value in SERVER_ONLY_VALUES:
        assert value not in text, f"{value!r} reached the browser: {text}"


def not_held_out(site: Site) -> str:
    """A visitor id outside the 0.37% holdout of ``pricing-offer``."""
    for _ in range(100):
        visitor = new_id("v_")
        if holdout_bucket(site.id, "pricing-offer", visitor) >= 37:
            return visitor
    raise AssertionError("every visitor id was held out")


async def test_visitors_see_only_what_their_engine_evaluates(
    live_server: ServerProcess, live_db: Path, token: str
) -> None:
    site = make_site(live_db, name="Secret rules", origins=[ORIGIN])
    browser = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await browser.hello(site.public_key, visitor=not_held_out(site))
    async with httpx.AsyncClient() as http:
        saved = await http.put(
            f"{live_server.url}/api/sites/{site.public_key}/rules",
            content=SECRET_RULES,
            headers={"Authorization": f"Bearer {token}"},
        )
    assert saved.status_code == 200, saved.text
    assert saved.json()["ruleset"]["rules"][0]["goal"].startswith("GOAL-SECRET")  # admins see all
    pushed, _ = await browser.recv_until("rules")
    assert_nothing_server_only(pushed["ruleset"])
    assert [r["id"] for r in pushed["ruleset"]["rules"]] == ["pricing-offer", "quiet-hours"]
    assert pushed["ruleset"]["rules"][0] == {
        "id": "pricing-offer", "priority": 5, "when": {"page": ["/pricing*"]},
    }  # fmt: skip

    # The browser's engine fires from what it was given, and the outreach follows.
    version = pushed["ruleset"]["version"]
    fire = {"t": "fire", "seq": 1, "at": int(time.time() * 1000), "session": "n_secret",
            "rule": "pricing-offer", "rule_version": version, "context": {}}  # fmt: skip
    await browser.send(fire)
    outreach, _ = await browser.recv_until("outreach")
    assert outreach["message"] == "MESSAGE-SECRET: comparing plans?"  # sent: now it may be seen
    assert outreach["reason"] == ""
    await browser.close()

    # The server-side engine works from the same view: welcome carries it, a page view fires.
    fallback = await VisitorClient.open(live_server.ws_url, ORIGIN)
    welcome = await fallback.hello(site.public_key, engine="server", visitor=not_held_out(site))
    assert welcome["ruleset"] == pushed["ruleset"]
    assert_nothing_server_only(welcome["ruleset"])
    now = int(time.time() * 1000)
    event = page_event(now, "https://shop.example/pricing")
    await fallback.send({"t": "event", "seq": 1, "at": now, "event": event})
    outreach, _ = await fallback.recv_until("outreach")
    assert outreach["rule"] == "pricing-offer"
    await fallback.close()
