"""A server killed (SIGKILL) while a fire waits for its decision: after the restart the fire
is decided once, and the visitor, back on the site, gets the outreach."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bpract.sites import Site
from decider.conftest import ANTHROPIC_KEY, CLAUDE, OPENAI_KEY, POLICY, answer
from fakes.llm_server import FakeLLMServer, Reply
from server.conftest import ORIGIN, rows
from support.eventually import eventually
from support.server import ServerProcess
from support.sites import make_site, make_token
from support.visitor import VisitorClient, new_id

#: The decider's time; a killed process's claim lapses 5 s after it.
DECIDER_TIMEOUT = 4.0
RULES = """
policy: {interruption_budget: 10}
rules:
  - id: offer
    when: {page: ["/pricing*"]}
    goal: Help the visitor choose a plan.
    message: {text: "Comparing plans? I can help."}
    cap: {count: 5, days: 1}
"""
AFTER_RESTART = "Back again? Annual billing saves 20% on every plan."


def fire(seq: int) -> dict[str, object]:
    return {"t": "fire", "seq": seq, "at": 1_764_163_200_000 + seq, "session": "n_crash",
            "rule": "offer", "rule_version": 1, "context": {"page": "/pricing"}}  # fmt: skip


@pytest.fixture
def crashing(tmp_path: Path) -> Iterator[tuple[ServerProcess, FakeLLMServer, Site]]:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "default.toml").write_text(POLICY)
    db = tmp_path / "bpract.db"
    site, token = make_site(db, origins=[ORIGIN]), make_token(db)
    with FakeLLMServer() as fake:
        env = {
            "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
            "OPENAI_API_KEY": OPENAI_KEY,
            "BPRACT_ANTHROPIC_BASE_URL": fake.anthropic_url,
            "BPRACT_OPENAI_BASE_URL": fake.openai_url,
            "BPRACT_LLM_POLICY_DIR": str(policies),
            "BPRACT_DECIDER_TIMEOUT": str(DECIDER_TIMEOUT),
        }
        server = ServerProcess(db, env=env).start(timeout=120)
        try:
            url = f"{server.url}/api/sites/{site.public_key}/rules"
            saved = httpx.put(url, headers={"Authorization": f"Bearer {token}"}, content=RULES)
            assert saved.status_code == 200, saved.text
            yield server, fake, site
        finally:
            server.stop()


async def test_a_fire_cut_off_by_a_crash_is_decided_after_the_restart(
    crashing: tuple[ServerProcess, FakeLLMServer, Site],
) -> None:
    server, fake, site = crashing
    # A first decision builds the model client; the second hangs past the kill; the third,
    # after the restart, answers at once.
    fake.script(
        answer(message="Warm."), Reply(text="too late", delay=8.0), answer(message=AFTER_RESTART),
        model=CLAUDE,
    )  # fmt: skip
    visitor, stream = new_id("v_"), new_id("s_")
    client = await VisitorClient.open(server.ws_url, ORIGIN)
    await client.hello(site.public_key, visitor=visitor, stream=stream)
    await client.send(fire(1))
    warm, _ = await client.recv_until("outreach", within=30)  # the model's, or the rule's
    eventually(lambda: len(fake.requests) == 1, 15.0, 0.02, what="the first call arrived")
    await client.send(fire(2))
    await client.recv_until("ack")
    eventually(lambda: len(fake.requests) == 2, 15.0, 0.02, what="the decider asked the model")
    server.kill()  # stored, acknowledged, claimed, not decided
    await client.close()
    fires = "SELECT status FROM fires WHERE visitor = ? ORDER BY id"
    assert rows(server.db, fires, visitor) == [("sent",), ("pending",)]

    server.start(timeout=120)
    client = await VisitorClient.open(server.ws_url, ORIGIN)
    welcome = await client.hello(site.public_key, visitor=visitor, stream=stream)
    assert welcome["stored_seq"] == 2  # the engine will not resend the fire: it is stored
    # The dead process's claim lapses (decider timeout + 5 s), then this connection decides.
    outreach, _ = await client.recv_until("outreach", within=DECIDER_TIMEOUT + 25)
    await client.close()
    # a slow first model call after the restart may fall back to the rule's own message
    assert outreach["message"] in (AFTER_RESTART, "Comparing plans? I can help.")
    sent = "SELECT status, outreach_id FROM fires WHERE visitor = ? ORDER BY id"
    assert rows(server.db, sent, visitor) == [("sent", warm["id"]), ("sent", outreach["id"])]
    assert rows(server.db, "SELECT COUNT(*) FROM outreach WHERE visitor = ?", visitor) == [(2,)]
