"""Budgets: reservations under concurrency, step-down, degradation, alert webhooks."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from bpract.llm.alerts import AlertSender
from bpract.llm.budget import Budgets, Limit, period_keys
from bpract.llm.errors import BudgetExceededError
from bpract.llm.gateway import HUMAN_HANDOFF, Gateway, estimate_input_tokens
from bpract.llm.policy import Policy
from bpract.llm.prices import PriceTable
from bpract.llm.types import ChatRequest, Message, SystemPart, Usage
from bpract.net import NetSettings, Outbound
from bpract.store import Database
from fakes.llm_server import FakeLLMServer, Reply

from .conftest import policy_for

ASK = ChatRequest(
    messages=(Message(role="user", content="How do I freeze my card?"),),
    system=(SystemPart(text="Freeze a card from the app under Card settings.", kind="knowledge"),),
    max_tokens=50,
)


def worst_case(provider: str, model: str) -> tuple[Usage, int]:
    usage = Usage(input=estimate_input_tokens(ASK), output=ASK.max_tokens)
    return usage, PriceTable.load().price(provider, model).cost(usage)


async def test_fifty_concurrent_calls_never_overshoot_a_hard_budget_that_fits_ten(
    fake: FakeLLMServer, gateway_factory: Callable[[Policy], Gateway], db: Database
) -> None:
    gateway = gateway_factory(policy_for(fake, tiers={"fast": ["anthropic:claude-haiku-4-5"]}))
    usage, each = worst_case("anthropic", "claude-haiku-4-5")
    await gateway.budgets.set_limit(1, Limit(period="day", hard_nano=10 * each))
    # Every answer costs exactly its reservation, so the limit fits exactly ten calls.
    fake.always("claude-haiku-4-5", Reply(input=usage.input, output=usage.output, delay=0.05))

    async def one() -> str:
        try:
            await gateway.complete(task="summary", tenant=1, request=ASK)
        except BudgetExceededError:
            return "refused"
        return "ok"

    results = await asyncio.gather(*(one() for _ in range(50)))
    assert results.count("ok") == 10
    assert results.count("refused") == 40
    assert len(fake.requests) == 10
    day, _ = period_keys(gateway.budgets.clock())
    spent, reserved = db.run_sync(
        lambda c: c.execute(
            "SELECT spent_nano, reserved_nano FROM llm_spend WHERE site_id = 1"
            " AND department = '' AND period_key = ?",
            (day,),
        ).fetchone()
    )
    assert (spent, reserved) == (10 * each, 0)


async def test_department_limits_apply_beside_the_site_limit(db: Database) -> None:
    budgets = Budgets(db)
    await budgets.set_limit(1, Limit(period="month", department="sales", hard_nano=100))
    await budgets.set_limit(1, Limit(period="day", hard_nano=1000))
    r = await budgets.reserve(1, "sales", 60)
    with pytest.raises(BudgetExceededError) as caught:
        await budgets.reserve(1, "sales", 60)
    assert caught.value.scope.startswith("sales month")
    await budgets.reserve(1, "support", 500)  # other departments only meet the site limit
    await budgets.settle(r, 10)
    await budgets.reserve(1, "sales", 60)  # settling at the real cost freed room
    with pytest.raises(BudgetExceededError):
        await budgets.reserve(1, "support", 500)  # site: 10 + 60 + 500 + 500 > 1000


async def test_stale_reservations_are_released(db: Database) -> None:
    now = [1_800_000_000.0]
    budgets = Budgets(db, clock=lambda: now[0])
    await budgets.set_limit(1, Limit(period="day", hard_nano=100))
    await budgets.reserve(1, "", 100)
    with pytest.raises(BudgetExceededError):
        await budgets.reserve(1, "", 1)
    now[0] += 60
    assert await budgets.release_stale(max_age_s=600) == 0
    now[0] += 600
    assert await budgets.release_stale(max_age_s=600) == 1
    await budgets.reserve(1, "", 100)


async def test_near_the_limit_chat_steps_down_a_tier(fake: FakeLLMServer, gateway: Gateway) -> None:
    hard_question = "I was charged TWICE!! Why? Can you refund one and also cancel my card?"
    request = ChatRequest(messages=(Message(role="user", content=hard_question),), max_tokens=50)
    kw = {"task": "chat_answer", "tenant": 1, "conversation": "a", "retrieval_confidence": 0.2}
    done = await gateway.complete(request=request, **kw)  # type: ignore[arg-type]
    assert done.model == "claude-opus-4-6"  # reasoning tier with an open budget
    await gateway.budgets.set_limit(1, Limit(period="month", hard_nano=10**9))
    spent = await gateway.budgets.reserve(1, "", 85 * 10**7)  # 85 % held
    done = await gateway.complete(request=request, **kw)  # type: ignore[arg-type]
    assert done.model == "claude-sonnet-4-6"
    first, second = await gateway.ledger.decisions(1, "a")
    assert "→ reasoning" in first.reason
    assert "budget at 85%, stepped down to capable" in second.reason
    await gateway.budgets.settle(spent, 0)


async def test_soft_limit_steps_down_too(fake: FakeLLMServer, gateway: Gateway) -> None:
    await gateway.budgets.set_limit(1, Limit(period="day", soft_nano=1))
    await gateway.budgets.settle(await gateway.budgets.reserve(1, "", 5), 5)
    done = await gateway.complete(task="judge", tenant=1, request=ASK)
    assert done.model == "claude-haiku-4-5"


async def test_at_the_hard_limit_chat_degrades_never_errors(
    fake: FakeLLMServer, gateway: Gateway
) -> None:
    await gateway.budgets.set_limit(1, Limit(period="day", hard_nano=1))
    done = await gateway.complete(task="chat_answer", tenant=1, request=ASK, conversation="z")
    assert done.degraded == "kb_only"
    assert "Freeze a card from the app" in done.text
    bare = ChatRequest(messages=ASK.messages)
    events = [e async for e in gateway.stream(task="chat_answer", tenant=1, request=bare)]
    assert len(events) == 1
    final = events[0]
    assert final.completion.degraded == "human"  # type: ignore[union-attr]
    assert final.completion.text == HUMAN_HANDOFF  # type: ignore[union-attr]
    with pytest.raises(BudgetExceededError):
        await gateway.complete(task="trigger_decision", tenant=1, request=ASK)
    assert fake.requests == []
    [decision] = await gateway.ledger.decisions(1, "z")
    assert decision.outcome == "degraded"
    assert "hard budget reached → kb_only" in decision.reason


async def test_threshold_alerts_post_once_to_the_webhook(
    fake: FakeLLMServer, gateway: Gateway
) -> None:
    # The receiver is on loopback: allowed as an operator would (BPRACT_OUTBOUND_ALLOW).
    await gateway.alerts.aclose()
    gateway.alerts = AlertSender(NetSettings(allow=fake.anthropic_url))
    usage, each = worst_case("anthropic", "claude-haiku-4-5")
    fake.always("claude-haiku-4-5", Reply(input=usage.input, output=usage.output))
    await gateway.budgets.set_limit(1, Limit(period="day", hard_nano=4 * each, soft_nano=3 * each))
    await gateway.budgets.set_hook(1, f"{fake.anthropic_url}/hook", thresholds=(0.5, 1.0))
    for _ in range(4):
        await gateway.complete(task="summary", tenant=1, request=ASK)
    await gateway.alerts.flush()
    # Each alert is posted in a task of its own, so they may arrive in any order: put them
    # back in the order they were crossed, by the spend each one reports.
    hooks = sorted((r.body for r in fake.requests if r.path == "/hook"),
                   key=lambda h: h["spent_nano"])  # fmt: skip
    assert [(h["department"], h["threshold"], h["spent_nano"]) for h in hooks] == [
        ("", "0.5", 2 * each),
        ("", "soft", 3 * each),
        ("", "1", 4 * each),
    ]
    assert all(h["type"] == "llm.budget" and h["site_id"] == 1 for h in hooks)


class Rebound:
    """A resolver for ``hooks.example``: public when the hook was set, loopback now."""

    async def resolve(self, host: str, port: int) -> list[str]:
        assert host == "hooks.example"
        return ["127.0.0.1"]


async def test_a_hook_that_now_points_inside_is_not_called(
    fake: FakeLLMServer, gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    """Checked when it is sent, not only when it was set: a loopback hook stored before the
    check existed, and a name re-pointed at a private address since, both stay unsent."""
    await gateway.alerts.aclose()
    gateway.alerts = AlertSender(outbound=Outbound(resolver=Rebound()))
    usage, each = worst_case("anthropic", "claude-haiku-4-5")
    fake.always("claude-haiku-4-5", Reply(input=usage.input, output=usage.output))
    await gateway.budgets.set_limit(1, Limit(period="day", hard_nano=4 * each))
    await gateway.budgets.set_hook(1, f"{fake.anthropic_url}/hook", thresholds=(0.25,))
    await gateway.complete(task="summary", tenant=1, request=ASK)
    await gateway.budgets.set_hook(1, f"http://hooks.example:{fake.port}/hook", thresholds=(0.5,))
    await gateway.complete(task="summary", tenant=1, request=ASK)
    await gateway.alerts.flush()
    assert [r for r in fake.requests if r.path == "/hook"] == []
    refused = [r.getMessage() for r in caplog.records if r.name == "bpract.llm.alerts"]
    assert refused == [
        "budget alert to http://127.0.0.1 not sent: TargetRefusedError",
        "budget alert to http://hooks.example not sent: TargetRefusedError",
    ]
