"""Trigger fires decided by a model, end to end: visitor WebSocket → server → fake provider.

Every path of the issue: engage, not engage, timeout (fallback and skip), budget
out, a provider failing over to the next, and each guardrail refusing.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import httpx
import pytest

from bpract.triggers.policy import is_held_out
from bpract.triggers.spec import load_ruleset
from decider.conftest import (
    ANTHROPIC_KEY,
    CLAUDE,
    GPT,
    OPENAI_KEY,
    ORIGIN,
    SLOW,
    Lab,
    answer,
    openai_answer,
)
from fakes.llm_server import Fault
from support.visitor import VisitorClient, new_id

REPO = Path(__file__).resolve().parents[2]

# claude-haiku-4-5 at $1 / $5 per million tokens: 900 in, 60 out.
CLAUDE_COST = 900 * 1000 + 60 * 5000
# gpt-4.1-mini at $0.40 / $1.60.
GPT_COST = 900 * 400 + 60 * 1600
RULE_MESSAGE = "Comparing plans? Annual billing saves 20%."


async def test_engage_sends_the_models_message_and_records_its_cost(fresh: Lab) -> None:
    message = "Weighing Basic against Plus? Annual billing takes 20% off either plan."
    fresh.fake.script(
        answer(
            message=message,
            cta_label="Compare annual prices",
            cta_url="/pricing?billing=annual",
            offer="annual-20",
            reason="returning visitor reading the plans for a minute",
        ),
        model=CLAUDE,
    )
    site = fresh.new_site()
    client = await fresh.visitor(site)
    try:
        await fresh.fire(client, "offer")
        outreach, _ = await client.recv_until("outreach")
    finally:
        await client.close()
    assert outreach["message"] == message
    assert outreach["cta"] == {"label": "Compare annual prices", "url": "/pricing?billing=annual"}
    assert outreach["reason"] == ""  # the model's rationale and its offer stay on the server
    fire = await fresh.settled_fire(site, "offer")
    assert fire["status"] == "sent" and fire["decided_by"] == "llm"
    assert (fire["provider"], fire["model"], fire["cost_nano"]) == ("claude", CLAUDE, CLAUDE_COST)
    assert "[offer annual-20]" in fire["reason"]
    ledger = fresh.query(
        "SELECT rule, department, task, cost_nano FROM llm_usage WHERE site_id = ?", site.id
    )
    assert ledger == [("offer", "sales", "trigger_decision", CLAUDE_COST)]

    async with httpx.AsyncClient(base_url=fresh.server.url, headers=fresh.headers) as http:
        report = (await http.get(f"/api/sites/{site.public_key}/rules/report")).json()["rules"]
    assert {r["rule"]: r["decider_cost_nano"] for r in report} == {"offer": CLAUDE_COST, "quiet": 0}

    args = ["usage", "--db", str(fresh.server.db), "--site", site.public_key, "--by", "rule"]
    usage = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bpract", *args, "--json", stdout=asyncio.subprocess.PIPE
    )
    stdout, _ = await asyncio.wait_for(usage.communicate(), 60)
    assert usage.returncode == 0
    rows = json.loads(stdout)
    assert [(r["group"], r["cost_nano"]) for r in rows] == [({"rule": "offer"}, CLAUDE_COST)]


async def test_the_request_carries_rule_journey_and_a_cacheable_prefix(fresh: Lab) -> None:
    fresh.fake.script(answer(message="Happy to help you choose a plan."), model=CLAUDE)
    site = fresh.new_site()
    before = len(fresh.fake.requests)
    client = await fresh.visitor(site)
    try:
        context = {"page": "/pricing", "title": "Plans", "user_hash": "f" * 64, "extra": "x"}
        await fresh.fire(client, "offer", context=context)
        await client.recv_until("outreach")
    finally:
        await client.close()
    (sent,) = fresh.fake.requests[before:]
    body = sent.body
    assert body["model"] == CLAUDE and body["tool_choice"] == {"type": "tool", "name": "respond"}
    system = body["system"]
    assert "cache_control" in system[-1] and "annual-20" in system[-1]["text"]
    user = body["messages"][0]["content"]
    user_text = user if isinstance(user, str) else user[0]["text"]
    assert "Page language: en-GB" in user_text and '"title":"Plans"' in user_text
    assert "f" * 64 not in json.dumps(body) and '"extra"' not in user_text
    assert ANTHROPIC_KEY not in fresh.server.log() and OPENAI_KEY not in fresh.server.log()


async def test_not_engaging_declines_with_the_models_reason(fresh: Lab) -> None:
    fresh.fake.script(
        answer(engage=False, reason="the visitor is reading the FAQ, not the plans"), model=CLAUDE
    )
    site = fresh.new_site()
    client = await fresh.visitor(site)
    try:
        await fresh.fire(client, "offer")
        fire = await fresh.settled_fire(site, "offer")
        await fresh.no_outreach(client)
    finally:
        await client.close()
    assert fire["status"] == "declined" and fire["outreach"] is None
    assert fire["reason"] == "the visitor is reading the FAQ, not the plans"
    assert (fire["decided_by"], fire["cost_nano"]) == ("llm", CLAUDE_COST)


async def test_a_timeout_falls_back_to_the_rules_message_or_skips(fresh: Lab) -> None:
    fresh.fake.always(CLAUDE, Fault("timeout", delay=SLOW))
    site = fresh.new_site()
    client = await fresh.visitor(site)
    try:
        await fresh.fire(client, "offer", seq=1)
        outreach, _ = await client.recv_until("outreach", within=15)
        assert outreach["message"] == RULE_MESSAGE
        await fresh.fire(client, "quiet", seq=2)
        quiet = await fresh.settled_fire(site, "quiet")
        await fresh.no_outreach(client)
    finally:
        await client.close()
    offer = await fresh.settled_fire(site, "offer")
    assert offer["decided_by"] == "rule" and "timed out" in offer["reason"]
    assert quiet["status"] == "declined" and quiet["decided_by"] == "policy"
    assert "timed out" in quiet["reason"] and "skip" in quiet["reason"]
    # The calls finish after the fires were decided: their reservations are settled.
    await fresh.calls_finished(site, "offer")
    await fresh.calls_finished(site, "quiet")
    held = fresh.query("SELECT COUNT(*) FROM llm_reservations WHERE site_id = ?", site.id)
    assert held == [(0,)]


async def test_an_exhausted_budget_falls_back_without_calling_a_model(fresh: Lab) -> None:
    site = fresh.new_site()
    limit = {"period": "day", "hard_nano": 0}
    url = f"{fresh.server.url}/api/sites/{site.public_key}/llm/budgets"
    async with httpx.AsyncClient(headers=fresh.headers) as http:
        assert (await http.put(url, json=limit)).status_code == 200
    before = len(fresh.fake.requests)
    client = await fresh.visitor(site)
    try:
        await fresh.fire(client, "offer", seq=1)
        outreach, _ = await client.recv_until("outreach")
        await fresh.fire(client, "quiet", seq=2)
        quiet = await fresh.settled_fire(site, "quiet")
        await fresh.no_outreach(client)
    finally:
        await client.close()
    assert outreach["message"] == RULE_MESSAGE
    offer = await fresh.settled_fire(site, "offer")
    assert "BudgetExceededError" in offer["reason"] and offer["cost_nano"] == 0
    assert quiet["status"] == "declined" and "BudgetExceededError" in quiet["reason"]
    assert len(fresh.fake.requests) == before


@pytest.mark.parametrize(
    "fault",
    [Fault("status", status=500), Fault("status", status=429, retry_after="30")],
    ids=["500", "429"],
)
async def test_a_failing_provider_falls_back_to_the_next(fresh: Lab, fault: Fault) -> None:
    fresh.fake.script(fault, model=CLAUDE)
    fresh.fake.script(openai_answer(message="Need help picking a plan?"), model=GPT)
    site = fresh.new_site()
    client = await fresh.visitor(site)
    try:
        await fresh.fire(client, "offer")
        outreach, _ = await client.recv_until("outreach")
    finally:
        await client.close()
    assert outreach["message"] == "Need help picking a plan?"
    fire = await fresh.settled_fire(site, "offer")
    assert (fire["provider"], fire["model"], fire["cost_nano"]) == ("gpt", GPT, GPT_COST)
    (outcome,) = fresh.query("SELECT outcome FROM llm_decisions WHERE site_id = ?", site.id)
    assert outcome == ("fallback",)


REFUSED = {
    "offer-not-allowed": (
        "en-GB", {"message": "Take 50% off today only!", "offer": "half-price"}, "offer",
    ),
    "too-long": ("en-GB", {"message": "Plans! " * 50}, "characters"),
    "foreign-link": (
        "en-GB",
        {"message": "Compare the plans here.", "cta_label": "Go", "cta_url": "https://evil.example/x"},
        "leaves the site",
    ),
    "protocol-relative-link": (
        "en-GB",
        {"message": "Compare the plans here.", "cta_label": "Go", "cta_url": "//evil.example/x"},
        "leaves the site",
    ),
    "link-in-text": (
        "en-GB", {"message": "See https://evil.example for the plans."}, "link",
    ),
    "wrong-language": (
        "fr-FR", {"message": "Are you comparing the plans? We can help you with that."}, "'en'",
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(REFUSED))
async def test_a_guardrail_refusal_falls_back_to_the_rules_message(fresh: Lab, case: str) -> None:
    lang, fields, why = REFUSED[case]
    fresh.fake.script(answer(**fields), model=CLAUDE)
    site = fresh.new_site()
    client = await fresh.visitor(site, lang=lang)
    try:
        await fresh.fire(client, "offer")
        outreach, _ = await client.recv_until("outreach")
    finally:
        await client.close()
    assert outreach["message"] == RULE_MESSAGE
    assert outreach["cta"] == {"label": "See annual prices", "url": "/pricing?billing=annual"}
    fire = await fresh.settled_fire(site, "offer")
    assert fire["decided_by"] == "rule" and "GuardrailError" in fire["reason"]
    assert why in fire["reason"]


async def test_a_message_in_the_page_language_passes(fresh: Lab) -> None:
    message = "Vous comparez les formules ? L'abonnement annuel coûte 20 % de moins."
    fresh.fake.script(answer(message=message, offer="annual-20"), model=CLAUDE)
    site = fresh.new_site()
    client = await fresh.visitor(site, lang="fr-FR")
    try:
        await fresh.fire(client, "offer")
        outreach, _ = await client.recv_until("outreach")
    finally:
        await client.close()
    assert outreach["message"] == message
    assert (await fresh.settled_fire(site, "offer"))["decided_by"] == "llm"


async def test_the_demo_stores_pricing_rule_is_decided_by_the_model(fresh: Lab) -> None:
    rules = (REPO / "demo_site" / "rules.yaml").read_text()
    site = fresh.new_site(rules)
    pricing = next(r for r in load_ruleset(rules).rules if r.id == "pricing-annual-offer")
    # The rule holds 10 % of visitors out: pick a visitor it does not.
    visitor = next(
        v for v in (new_id("v_") for _ in range(100)) if not is_held_out(site.id, pricing, v)
    )
    message = "Torn between Club Basic and Plus? Paid yearly, Basic is €7.20 a month."
    fresh.fake.script(
        answer(
            message=message,
            cta_label="See annual prices",
            cta_url="/pricing?billing=annual",
            offer="annual-20",
        ),
        model=CLAUDE,
    )
    client = await VisitorClient.open(fresh.server.ws_url, ORIGIN)
    try:
        await client.hello(site.public_key, visitor=visitor)
        await fresh.fire(client, "pricing-annual-offer")
        outreach, _ = await client.recv_until("outreach")
    finally:
        await client.close()
    assert outreach["message"] == message
    fire = await fresh.settled_fire(site, "pricing-annual-offer")
    assert (fire["decided_by"], fire["cost_nano"]) == ("llm", CLAUDE_COST)
    (sent,) = [r for r in fresh.fake.requests if "pricing-annual-offer" in json.dumps(r.body)]
    assert "annual billing costs 20% less" in json.dumps(sent.body["system"])
