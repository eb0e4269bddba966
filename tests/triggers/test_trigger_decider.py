"""The decider seam: engaged, declined, failed, timed out, or proposing an invalid message."""

from __future__ import annotations

import asyncio
import dataclasses

import pytest

from bpract.store import Database
from bpract.triggers.decider import Decision, DecisionRequest, RuleMessageDecider
from bpract.triggers.service import TriggerService
from bpract.triggers.spec import load_ruleset
from bpract_client.rules import CTA, Message
from triggers.support import FakeClock, fire, save


class ScriptedDecider:
    """Answers with a fixed decision, raises, or hangs; remembers what it was asked."""

    def __init__(self, answer: Decision | Exception | None) -> None:
        self.answer = answer
        self.requests: list[DecisionRequest] = []

    async def decide(self, request: DecisionRequest) -> Decision:
        self.requests.append(request)
        if self.answer is None:
            await asyncio.sleep(3600)
        if isinstance(self.answer, Exception):
            raise self.answer
        assert isinstance(self.answer, Decision)
        return self.answer


def ruleset(on_failure: str) -> str:
    return (
        "rules:\n  - id: r\n    message: {text: rule text, cta: {label: Go, url: /go}}\n"
        f"    on_decider_failure: {on_failure}\n"
    )


def statuses(db: Database) -> list[tuple[str, str]]:
    return db.run_sync(lambda c: list(c.execute("SELECT status, reason FROM fires ORDER BY id")))


async def run(
    db: Database, clock: FakeClock, site_id: int, decider: ScriptedDecider, on_failure: str
) -> tuple[str, str, dict[str, object] | None]:
    service = TriggerService(db, None, decider, now_ms=clock, decider_timeout_s=0.05)
    await save(service, site_id, ruleset(on_failure))
    return await fire(service, site_id, "r")


async def test_the_rule_message_decider() -> None:
    rule = load_ruleset(ruleset("fallback")).rules[0]
    decision = await RuleMessageDecider().decide(
        DecisionRequest(site_id=1, rule=rule, visitor="v", context={}, lang=None)
    )
    assert decision == Decision(
        engage=True,
        message="rule text",
        cta=CTA(label="Go", url="/go"),
        reason="the rule's message",
        decided_by="rule",
    )


@pytest.mark.parametrize("url", ["//evil.example/x", "/\\evil.example", "/%2F/evil.example"])
async def test_a_stored_rule_with_a_cta_leaving_the_site_is_sent_without_it(url: str) -> None:
    # written before CTAs were checked on load: the rule types alone let these through
    stored = load_ruleset(ruleset("fallback")).rules[0]
    rule = dataclasses.replace(
        stored, message=Message(text="rule text", cta=CTA(label="Go", url=url))
    )
    decision = await RuleMessageDecider().decide(
        DecisionRequest(site_id=1, rule=rule, visitor="v", context={}, lang=None)
    )
    assert decision.message == "rule text" and decision.cta is None


async def test_a_decider_message_is_sent_and_it_sees_the_fire(
    db: Database, clock: FakeClock, site_id: int
) -> None:
    decision = Decision(engage=True, message="Hi there", cta=None, reason="fits", decided_by="llm")
    decider = ScriptedDecider(decision)
    status, reason, outreach = await run(db, clock, site_id, decider, "fallback")
    assert (status, reason) == ("sent", "fits")
    assert outreach is not None
    assert (outreach["message"], outreach["cta"]) == ("Hi there", None)
    assert "reason" not in outreach  # the decider's reason is not for the browser
    (request,) = decider.requests
    assert (request.site_id, request.visitor, request.rule.id, request.lang) == (
        site_id,
        "v_alice",
        "r",
        "en",
    )
    assert request.context == {"page": "/pricing"}
    decided_by = db.run_sync(lambda c: c.execute("SELECT decided_by FROM outreach").fetchone())
    assert decided_by == ("llm",)


async def test_a_declining_decider_records_declined(
    db: Database, clock: FakeClock, site_id: int
) -> None:
    decision = Decision(engage=False, message="", cta=None, reason="busy page", decided_by="llm")
    status, reason, outreach = await run(db, clock, site_id, ScriptedDecider(decision), "fallback")
    assert (status, reason, outreach) == ("declined", "busy page", None)
    assert statuses(db) == [("declined", "busy page")]
    assert db.run_sync(lambda c: c.execute("SELECT COUNT(*) FROM outreach").fetchone()) == (0,)


@pytest.mark.parametrize(
    ("answer", "failure"),
    [
        (RuntimeError("provider down"), "failed (RuntimeError('provider down'))"),
        (None, "timed out"),
        (
            Decision(engage=True, message="  ", cta=None, reason="", decided_by="llm"),
            "failed (ValueError('message must be 1..500 characters'))",
        ),
        (
            Decision(engage=True, message="x" * 501, cta=None, reason="", decided_by="llm"),
            "failed (ValueError('message must be 1..500 characters'))",
        ),
    ],
)
async def test_decider_failure_falls_back_to_the_rule_message(
    db: Database, clock: FakeClock, site_id: int, answer: Decision | Exception | None, failure: str
) -> None:
    status, reason, outreach = await run(db, clock, site_id, ScriptedDecider(answer), "fallback")
    assert status == "sent"
    assert reason == f"decider {failure}; rule's message sent instead"
    assert outreach is not None
    assert outreach["message"] == "rule text"
    assert outreach["cta"] == {"label": "Go", "url": "/go"}


@pytest.mark.parametrize("answer", [RuntimeError("provider down"), None])
async def test_decider_failure_with_skip_declines(
    db: Database, clock: FakeClock, site_id: int, answer: Exception | None
) -> None:
    status, reason, outreach = await run(db, clock, site_id, ScriptedDecider(answer), "skip")
    assert (status, outreach) == ("declined", None)
    assert reason.endswith("; rule says skip")
    assert statuses(db)[0][0] == "declined"


async def test_a_declined_fire_does_not_use_the_cap(
    db: Database, clock: FakeClock, site_id: int
) -> None:
    decider = ScriptedDecider(RuntimeError("down"))
    service = TriggerService(db, None, decider, now_ms=clock, decider_timeout_s=0.05)
    await save(service, site_id, ruleset("skip"))
    assert (await fire(service, site_id, "r"))[0] == "declined"
    decider.answer = Decision(engage=True, message="ok", cta=None, reason="", decided_by="llm")
    assert (await fire(service, site_id, "r"))[0] == "sent"
