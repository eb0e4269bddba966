"""The gateway end to end against the fake provider: routing, retries, fallbacks, ledger."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal

import msgspec
import pytest

from bpract.llm.errors import AllProvidersFailedError, NoCompliantRouteError
from bpract.llm.gateway import HUMAN_HANDOFF, Gateway
from bpract.llm.policy import Policy
from bpract.llm.prices import PriceTable
from bpract.llm.providers.offline import OFFLINE_PREFIX
from bpract.llm.types import (
    ChatRequest,
    Finished,
    Message,
    Restarted,
    StreamEvent,
    SystemPart,
    TextDelta,
    Usage,
)
from bpract.store import Database
from fakes.llm_server import FakeLLMServer, Fault, Reply

from .conftest import KEY_ANTHROPIC, KEY_OPENAI, Sleeps, policy_for

ASK = ChatRequest(
    messages=(Message(role="user", content="When does my card arrive?"),),
    system=(
        SystemPart(text="You answer for Acme Bank.", cacheable=True),
        SystemPart(
            text="New cards arrive within 5 working days.", cacheable=True, kind="knowledge"
        ),
    ),
    max_tokens=100,
)
PRICES = PriceTable.load()


def models(fake: FakeLLMServer) -> list[str]:
    return [r.body["model"] for r in fake.requests if "model" in r.body]


def ledger(db: Database) -> list[tuple[object, ...]]:
    return db.run_sync(
        lambda c: c.execute(
            "SELECT provider, model, streamed, input_tokens, output_tokens, cache_read_tokens,"
            " cache_write_tokens, cost_nano, saved_nano FROM llm_usage ORDER BY id"
        ).fetchall()
    )


def spend(db: Database, site: int = 1) -> tuple[int, int]:
    row = db.run_sync(
        lambda c: c.execute(
            "SELECT COALESCE(SUM(spent_nano), 0), COALESCE(SUM(reserved_nano), 0)"
            " FROM llm_spend WHERE site_id = ? AND department = '' AND length(period_key) = 10",
            (site,),
        ).fetchone()
    )
    return int(row[0]), int(row[1])


async def collect(events: object) -> list[StreamEvent]:
    return [e async for e in events]  # type: ignore[attr-defined]


async def test_complete_routes_by_task_and_records_cost(
    fake: FakeLLMServer, gateway: Gateway, db: Database
) -> None:
    fake.script(Reply(text="Within 5 days.", input=1000, output=20), model="claude-haiku-4-5")
    done = await gateway.complete(task="summary", tenant=1, request=ASK, conversation="c1")
    assert (done.provider, done.model, done.text) == (
        "anthropic",
        "claude-haiku-4-5",
        "Within 5 days.",
    )
    expected = (1000 * Decimal("1.00") + 20 * Decimal("5.00")) * 1000
    assert ledger(db) == [("anthropic", "claude-haiku-4-5", 0, 1000, 20, 0, 0, int(expected), 0)]
    assert spend(db) == (int(expected), 0)
    [decision] = await gateway.ledger.decisions(1, "c1")
    assert decision.outcome == "ok"
    assert "summary → fast by policy" in decision.reason


@pytest.mark.parametrize("kind", ["anthropic", "openai"])
async def test_streamed_usage_with_cache_tokens_is_priced_exactly(
    fake: FakeLLMServer, gateway_factory: Callable[[Policy], Gateway], db: Database, kind: str
) -> None:
    tiers = {
        "fast": ["anthropic:claude-haiku-4-5"] if kind == "anthropic" else ["openai:gpt-4.1-mini"]
    }
    gateway = gateway_factory(policy_for(fake, tiers=tiers))
    write = 2048 if kind == "anthropic" else 0  # OpenAI reports no cache writes
    fake.script(
        Reply(text="Five working days.", input=37, output=9, cache_read=4096, cache_write=write)
    )
    events = await collect(gateway.stream(task="summary", tenant=1, request=ASK))
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Five working days."
    final = events[-1]
    assert isinstance(final, Finished)
    usage = Usage(input=37, output=9, cache_read=4096, cache_write=write)
    assert final.completion.usage == usage
    model = final.completion.model
    p = PRICES.price(kind, model)
    exact = (37 * p.input + 9 * p.output + 4096 * p.cache_read + write * p.cache_write) * 1000
    saved = (4096 * (p.input - p.cache_read) + write * (p.input - p.cache_write)) * 1000
    [row] = ledger(db)
    assert row == (kind, model, 1, 37, 9, 4096, write, int(exact), int(saved))
    assert exact == int(exact) and saved > 0


@pytest.mark.parametrize(
    "fault",
    [
        Fault("status", status=429, retry_after="60"),
        Fault("status", status=500),
        Fault("status", status=529),
        Fault("timeout", delay=1.5),
        Fault("malformed"),
    ],
    ids=["429", "500", "529", "timeout", "malformed"],
)
async def test_fallback_fires_on_each_fault(
    fake: FakeLLMServer, gateway: Gateway, db: Database, fault: Fault
) -> None:
    fake.always("claude-haiku-4-5", fault)
    fake.script(Reply(text="from the fallback"), model="gpt-4.1-mini")
    done = await gateway.complete(task="summary", tenant=1, request=ASK, conversation="f")
    assert (done.provider, done.text) == ("openai", "from the fallback")
    assert models(fake) == ["claude-haiku-4-5", "gpt-4.1-mini"]
    [decision] = await gateway.ledger.decisions(1, "f")
    assert decision.outcome == "fallback"
    assert decision.attempts[0]["provider"] == "anthropic"
    assert spend(db)[1] == 0  # the failed call's reservation was released


@pytest.mark.parametrize(
    "fault", [Fault("cut", after_events=4), Fault("malformed"), Fault("status")]
)
async def test_stream_falls_back_and_says_restart_after_a_cut(
    fake: FakeLLMServer, gateway: Gateway, fault: Fault
) -> None:
    fake.always("claude-haiku-4-5", fault)
    fake.script(Reply(text="A whole answer."), model="gpt-4.1-mini")
    events = await collect(gateway.stream(task="summary", tenant=1, request=ASK))
    restarts = [i for i, e in enumerate(events) if isinstance(e, Restarted)]
    if fault.kind == "cut":
        assert len(restarts) == 1  # text was already sent: the consumer must discard it
        after = events[restarts[0] + 1 :]
    else:
        assert restarts == []
        after = events
    assert "".join(e.text for e in after if isinstance(e, TextDelta)) == "A whole answer."
    final = events[-1]
    assert isinstance(final, Finished)
    assert final.completion.provider == "openai"


async def test_retry_honours_retry_after_then_succeeds_on_the_same_provider(
    fake: FakeLLMServer, gateway_factory: Callable[[Policy], Gateway], sleeps: Sleeps
) -> None:
    gateway = gateway_factory(policy_for(fake, retry={"attempts": 3, "max_retry_after_s": 5}))
    fake.script(
        Fault("status", status=429, retry_after="2"),
        Fault("status", status=503),
        Reply(text="third time"),
        model="claude-haiku-4-5",
    )
    done = await gateway.complete(task="summary", tenant=1, request=ASK)
    assert done.text == "third time"
    assert models(fake) == ["claude-haiku-4-5"] * 3
    assert sleeps[0] == 2.0  # Retry-After, exactly
    assert 0 < sleeps[1] <= 0.4  # backoff with jitter: base 0.2 × 2, halved at most


async def test_a_long_retry_after_moves_to_the_next_provider_without_waiting(
    fake: FakeLLMServer, gateway_factory: Callable[[Policy], Gateway], sleeps: Sleeps
) -> None:
    gateway = gateway_factory(policy_for(fake, retry={"attempts": 3, "max_retry_after_s": 5}))
    fake.script(Fault("status", status=429, retry_after="120"), model="claude-haiku-4-5")
    done = await gateway.complete(task="summary", tenant=1, request=ASK)
    assert done.provider == "openai"
    assert sleeps == []


async def test_a_refused_request_is_not_retried(
    fake: FakeLLMServer, gateway_factory: Callable[[Policy], Gateway], sleeps: Sleeps
) -> None:
    gateway = gateway_factory(policy_for(fake, retry={"attempts": 3}))
    fake.always("claude-haiku-4-5", Fault("status", status=400))
    done = await gateway.complete(task="summary", tenant=1, request=ASK)
    assert done.provider == "openai"
    assert models(fake) == ["claude-haiku-4-5", "gpt-4.1-mini"]
    assert sleeps == []


async def test_every_provider_failing_raises_with_each_error(
    fake: FakeLLMServer, gateway: Gateway
) -> None:
    for model in (
        "claude-haiku-4-5",
        "gpt-4.1-mini",
        "claude-sonnet-4-6",
        "gpt-4.1",
        "claude-opus-4-6",
    ):
        fake.always(model, Fault("status", status=500))
    with pytest.raises(AllProvidersFailedError) as caught:
        await gateway.complete(task="summary", tenant=1, request=ASK, conversation="x")
    assert len(caught.value.errors) == 5
    [decision] = await gateway.ledger.decisions(1, "x")
    assert decision.outcome == "failed"


async def test_chat_degrades_to_the_knowledge_base_when_every_provider_fails(
    fake: FakeLLMServer, gateway: Gateway
) -> None:
    for model in (
        "claude-haiku-4-5",
        "gpt-4.1-mini",
        "claude-sonnet-4-6",
        "gpt-4.1",
        "claude-opus-4-6",
    ):
        fake.always(model, Fault("status", status=500))
    done = await gateway.complete(task="chat_answer", tenant=1, request=ASK)
    assert done.degraded == "kb_only"
    assert done.text == OFFLINE_PREFIX + "New cards arrive within 5 working days."


# -- compliance ---------------------------------------------------------------------------------

PII_ONLY_EU_ZDR = [{"data_class": "pii", "zero_data_retention": True, "regions": ["eu"]}]


async def test_compliance_is_never_broken_even_by_a_fallback(
    fake: FakeLLMServer, gateway_factory: Callable[[Policy], Gateway]
) -> None:
    gateway = gateway_factory(policy_for(fake, compliance=PII_ONLY_EU_ZDR))
    for model in ("claude-haiku-4-5", "claude-sonnet-4-6", "claude-opus-4-6"):
        fake.always(model, Fault("status", status=500))
    with pytest.raises(AllProvidersFailedError):
        await gateway.complete(task="summary", tenant=1, request=ASK, data_class="pii")
    assert "gpt-4.1-mini" not in models(fake) and "gpt-4.1" not in models(fake)
    done = await gateway.complete(task="chat_answer", tenant=1, request=ASK, data_class="pii")
    assert done.degraded == "kb_only"
    assert not any(m.startswith("gpt") for m in models(fake))
    # The same call without personal data may use OpenAI.
    done = await gateway.complete(task="summary", tenant=1, request=ASK, data_class="general")
    assert done.provider == "openai"


async def test_no_compliant_provider_is_refused_or_degraded(
    fake: FakeLLMServer, gateway_factory: Callable[[Policy], Gateway]
) -> None:
    rules = [{"data_class": "health", "providers": ["openai"], "zero_data_retention": True}]
    gateway = gateway_factory(policy_for(fake, compliance=rules))
    with pytest.raises(NoCompliantRouteError):
        await gateway.complete(task="judge", tenant=1, request=ASK, data_class="health")
    bare = ChatRequest(messages=ASK.messages)
    done = await gateway.complete(task="chat_answer", tenant=1, request=bare, data_class="health")
    assert (done.degraded, done.text) == ("human", HUMAN_HANDOFF)
    assert fake.requests == []


# -- structured output --------------------------------------------------------------------------


class Outreach(msgspec.Struct):
    reach_out: bool
    message: str


async def test_structured_output_is_validated_and_invalid_output_falls_back(
    fake: FakeLLMServer, gateway: Gateway
) -> None:
    fake.script(
        Reply(text="", tool_calls=(("respond", {"reach_out": "maybe"}),)), model="claude-haiku-4-5"
    )
    fake.script(Reply(text='{"reach_out": true, "message": "Need help?"}'), model="gpt-4.1-mini")
    done = await gateway.complete(
        task="trigger_decision", tenant=1, request=ASK, output_type=Outreach, rule="pricing"
    )
    assert done.value == Outreach(reach_out=True, message="Need help?")
    schema = fake.requests[0].body["tools"][-1]["input_schema"]
    assert schema["required"] == ["reach_out", "message"]
    assert fake.requests[1].body["response_format"]["json_schema"]["schema"] == schema


# -- keys ---------------------------------------------------------------------------------------


async def test_keys_never_appear_in_logs_errors_or_the_decision_log(
    fake: FakeLLMServer, gateway: Gateway, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    fake.script(Fault("status", status=401), model="claude-haiku-4-5")
    fake.script(Fault("status", status=500), model="gpt-4.1-mini")
    fake.script(Reply(text="ok"))
    await gateway.complete(task="summary", tenant=1, request=ASK, conversation="k")
    for model in (
        "claude-haiku-4-5",
        "gpt-4.1-mini",
        "claude-sonnet-4-6",
        "gpt-4.1",
        "claude-opus-4-6",
    ):
        fake.always(model, Fault("status", status=401))
    with pytest.raises(AllProvidersFailedError) as caught:
        await gateway.complete(task="summary", tenant=1, request=ASK, conversation="k")
    events = await collect(
        gateway.stream(task="chat_answer", tenant=1, request=ASK, conversation="k")
    )
    assert isinstance(events[-1], Finished)
    decisions = db.run_sync(lambda c: c.execute("SELECT * FROM llm_decisions").fetchall())
    seen = {
        r.headers.get("authorization", "") + r.headers.get("x-api-key", "") for r in fake.requests
    }
    assert any(KEY_ANTHROPIC in s for s in seen) and any(
        KEY_OPENAI in s for s in seen
    )  # keys were sent
    assert len(caplog.records) > 5  # DEBUG logging from the SDKs and transports was captured
    for text in (
        caplog.text,
        str(caught.value),
        repr(caught.value),
        str(decisions),
        repr(gateway.policies.default),
    ):
        assert KEY_ANTHROPIC not in text
        assert KEY_OPENAI not in text
