"""A real server whose trigger decisions go to the fake LLM server, and helpers to drive it.

One server per test module (start-up is the slow part); each test makes its own
site, so budgets, caps and reports never mix between tests.  The routing policy
sends ``trigger_decision`` to ``claude:claude-haiku-4-5`` first and
``gpt:gpt-4.1-mini`` second; both SDKs reach the fake through the
``BPRACT_*_BASE_URL`` overrides.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from bpract.sites import Site
from bpract.store import connect
from fakes.llm_server import FakeLLMServer, Fault, Reply
from support.eventually import eventually_async
from support.server import ServerProcess
from support.sites import make_site, make_token
from support.visitor import VisitorClient, new_id

ORIGIN = "http://127.0.0.1:8765"
CLAUDE = "claude-haiku-4-5"
GPT = "gpt-4.1-mini"
ANTHROPIC_KEY = "sk-ant-decider-test-0123456789"
OPENAI_KEY = "sk-openai-decider-test-0123456789"
#: Seconds the server gives the decider; the fake's slow answers take longer.
DECIDER_TIMEOUT = 2.5
SLOW = 4.0

POLICY = """
[providers.claude]
kind = "anthropic"

[providers.gpt]
kind = "openai"

[tiers]
fast = ["claude:claude-haiku-4-5", "gpt:gpt-4.1-mini"]

[retry]
attempts = 1
timeout_s = 10
max_retry_after_s = 1
"""

RULES = """
policy: {interruption_budget: 10}
rules:
  - id: offer
    department: sales
    when: {page: ["/pricing*"]}
    goal: Help the visitor choose a plan; mention the annual discount if price is the obstacle.
    message:
      text: "Comparing plans? Annual billing saves 20%."
      cta: {label: "See annual prices", url: "/pricing?billing=annual"}
    offers: ["annual-20"]
    cap: {count: 5, days: 1}
  - id: quiet
    department: support
    when: {page: ["/pricing*"]}
    message: {text: "Need a hand with anything?"}
    cap: {count: 5, days: 1}
    on_decider_failure: skip
"""

CONTEXT: dict[str, Any] = {
    "page": "/pricing",
    "title": "Plans and prices",
    "signals": {"attentive_seconds": 61.0, "scroll_percent": 80, "exit_intent": False},
    "cart": {"items": 0, "value": 0, "currency": "EUR"},
    "journey": ["/", "/products/linen-shirt", "/pricing"],
    "session": 2,
    "visitor": "returning",
    "identified": False,
    "device": "desktop",
}


def answer(**fields: Any) -> Reply:
    """The fake's Anthropic answer: the forced ``respond`` tool call carrying ``fields``."""
    value = {"engage": True, "message": "", "cta_label": None, "cta_url": None}
    value |= {"offer": None, "reason": "fits the goal"} | fields
    return Reply(text="", tool_calls=(("respond", value),), input=900, output=60)


def openai_answer(**fields: Any) -> Reply:
    """The same for the OpenAI wire format: the JSON text itself."""
    value = {"engage": True, "message": "", "cta_label": None, "cta_url": None}
    value |= {"offer": None, "reason": "fits the goal"} | fields
    return Reply(text=json.dumps(value), input=900, output=60)


class Lab:
    """The running server, the fake provider, and what a test needs to drive a fire."""

    def __init__(self, server: ServerProcess, fake: FakeLLMServer, token: str) -> None:
        self.server, self.fake, self.token = server, fake, token

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def new_site(self, rules: str = RULES) -> Site:
        site = make_site(self.server.db, origins=[ORIGIN])
        url = f"{self.server.url}/api/sites/{site.public_key}/rules"
        saved = httpx.put(url, headers=self.headers, content=rules, timeout=10)
        assert saved.status_code == 200, saved.text
        return site

    async def visitor(self, site: Site, lang: str = "en-GB") -> VisitorClient:
        client = await VisitorClient.open(self.server.ws_url, ORIGIN)
        await client.hello(site.public_key, lang=lang)
        return client

    async def fire(
        self, client: VisitorClient, rule: str, seq: int = 1, context: dict[str, Any] | None = None
    ) -> None:
        await client.send(
            {
                "t": "fire",
                "seq": seq,
                "at": 1_764_163_200_000 + seq,
                "session": new_id("n_"),
                "rule": rule,
                "rule_version": 1,
                "context": CONTEXT if context is None else context,
            }
        )

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        conn = connect(self.server.db)
        try:
            return list(conn.execute(sql, args))
        finally:
            conn.close()

    async def settled_fire(self, site: Site, rule: str, within: float = 15.0) -> dict[str, Any]:
        """The rule's fire on ``site`` once it is no longer pending."""
        sql = (
            "SELECT status, reason, decided_by, provider, model, cost_nano, outreach_id"
            " FROM fires WHERE site_id = ? AND rule_id = ? AND status != 'pending'"
        )
        keys = ("status", "reason", "decided_by", "provider", "model", "cost_nano", "outreach")
        what = f"a settled fire of {rule!r}"
        rows = await eventually_async(lambda: self.query(sql, site.id, rule), within, what=what)
        return dict(zip(keys, rows[-1], strict=True))

    async def no_outreach(self, client: VisitorClient) -> None:
        """Nothing but acks before the answer to a ping sent now."""
        await client.send({"t": "ping"})
        _, before = await client.recv_until("pong")
        assert [f["t"] for f in before if f["t"] != "ack"] == []

    async def calls_finished(self, site: Site, rule: str, within: float = 20.0) -> None:
        """Wait for the gateway's decision row of a call the decider stopped waiting for."""
        sql = "SELECT COUNT(*) FROM llm_decisions WHERE site_id = ? AND rule = ?"
        what = f"the model call of {rule!r} finished"
        await eventually_async(lambda: self.query(sql, site.id, rule)[0][0], within, 0.1, what=what)


def _reset(fake: FakeLLMServer) -> None:
    with fake.state.lock:
        fake.state.queue.clear()
        fake.state.per_model.clear()
        fake.state.sticky.clear()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    root = tmp_path_factory.mktemp("decider")
    policies = root / "policies"
    policies.mkdir()
    (policies / "default.toml").write_text(POLICY)
    db = root / "bpract.db"
    token = make_token(db)
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
            lab = Lab(server, fake, token)
            asyncio.run(_warm_up(lab))
            yield lab
        finally:
            server.stop()


async def _warm_up(lab: Lab) -> None:
    """Build both SDK clients once, so no test pays their import inside the decider's time."""
    lab.fake.script(Fault("status", status=500), model=CLAUDE)
    lab.fake.script(openai_answer(message="Warm."), model=GPT)
    site = lab.new_site()
    client = await lab.visitor(site)
    try:
        await lab.fire(client, "offer")
        await client.recv_until("outreach", within=30)
    finally:
        await client.close()
    # The outreach can come from the decider's timeout while Claude's retry is still in
    # flight; that late call would take the first test's scripted answer.
    await lab.calls_finished(site, "offer", within=60)


@pytest.fixture
def fresh(lab: Lab) -> Iterator[Lab]:
    """``lab`` with the fake's scripts emptied before and after the test."""
    _reset(lab.fake)
    yield lab
    _reset(lab.fake)
