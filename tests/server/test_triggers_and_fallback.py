"""The visitor socket with the trigger service and the server-side engine, on a real server."""

from __future__ import annotations

import time

import httpx
import pytest

from bpract.sites import Site, user_hash
from server.conftest import ORIGIN, rows
from support.eventually import eventually_async
from support.server import ServerProcess
from support.sites import make_token
from support.visitor import VisitorClient

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
