"""Rules end to end on a real server: PUT over HTTP, pushed to a connected visitor, fired,
answered with outreach, outcome reported, counted in the report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bpract.sites import Site
from bpract.triggers.spec import ruleset_from_compiled
from bpract_client.rules import engine_view
from support.eventually import eventually_async
from support.server import ServerProcess
from support.sites import make_site, make_token
from support.visitor import VisitorClient, new_id

ORIGIN = "http://127.0.0.1:8765"
RULES = """
rules:
  - id: pricing-offer
    when: {page: ["/pricing*"], attentive_seconds: 30}
    message: {text: "Comparing plans?", cta: {label: "See pricing", url: "/pricing"}}
"""


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[ServerProcess, Site, str]]:
    db = tmp_path / "live.db"
    site = make_site(db, origins=[ORIGIN])
    token = make_token(db, "marketer")
    with ServerProcess(db) as server:
        yield server, site, token


def fire_frame(seq: int, rule: str, version: int) -> dict[str, object]:
    return {
        "t": "fire",
        "seq": seq,
        "at": 1_764_163_200_000 + seq,
        "session": new_id("n_"),
        "rule": rule,
        "rule_version": version,
        "context": {"page": "/pricing"},
    }


async def test_rules_reach_a_connected_visitor_and_fires_become_outreach(
    live: tuple[ServerProcess, Site, str],
) -> None:
    server, site, token = live
    headers = {"Authorization": f"Bearer {token}"}
    rules_url = f"{server.url}/api/sites/{site.public_key}/rules"
    client = await VisitorClient.open(server.ws_url, ORIGIN)
    try:
        welcome = await client.hello(site.public_key)
        assert welcome["ruleset"]["version"] == 0
        async with httpx.AsyncClient(timeout=10) as http:
            saved = await http.put(rules_url, headers=headers, content=RULES)
            assert saved.status_code == 200, saved.text
            pushed, _ = await client.recv_until("rules")
            # the admin API returns the whole ruleset; the visitor gets the engine's view of it
            full = ruleset_from_compiled(saved.json()["ruleset"])
            assert pushed["ruleset"] == engine_view(full)

            await client.send(fire_frame(1, "pricing-offer", 1))
            outreach, _ = await client.recv_until("outreach")
            assert outreach["rule"] == "pricing-offer"
            assert outreach["message"] == "Comparing plans?"
            assert outreach["cta"] == {"label": "See pricing", "url": "/pricing"}

            await client.send(fire_frame(2, "no-such-rule", 1))
            error, _ = await client.recv_until("error")
            assert error["code"] == "unknown_rule"

            outcome = {"t": "outcome", "seq": 3, "at": 1_764_163_201_000}
            await client.send(outcome | {"outreach": outreach["id"], "kind": "clicked"})

            async def report() -> list[dict[str, Any]]:
                rules = (await http.get(f"{rules_url}/report", headers=headers)).json()["rules"]
                return rules if rules[0]["outcomes"] else []

            # the outcome is stored after its frame is read
            (rule,) = await eventually_async(report, 5.0, 0.1)
            assert rule["fires"] == {"sent": 1}
            assert rule["outcomes"] == {"clicked": 1}
    finally:
        await client.close()
