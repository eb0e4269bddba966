"""The model decider: the routed model proposes, guardrails in code accept or refuse.

A refused answer, a timeout, a spent budget or any gateway error is raised, so
the seam (:func:`bpract.triggers.decider.decide_or_fall_back`) applies the
rule's ``on_decider_failure``.  The model call runs shielded: when the seam's
deadline passes, the call still finishes in the background and settles its
budget reservation and ledger row (a provider bills a late answer too).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import Protocol

import apsw

from bpract.llm.gateway import Gateway
from bpract.llm.types import Completion
from bpract.store import Database
from bpract.triggers.decider import (
    Decider,
    Decision,
    DecisionRequest,
    RuleMessageDecider,
    rule_message,
)
from bpract.triggers.guardrails import check_cta, check_language, check_message, check_offer
from bpract.triggers.journey import load_journey
from bpract.triggers.prompt import Outreach, decision_request

__all__ = ["TASK", "LLMDecider", "Passage", "Passages", "decider_for"]

log = logging.getLogger("bpract.triggers")

#: The gateway task every trigger decision runs as (routing policy ``[tasks]`` key).
TASK = "trigger_decision"
_PASSAGES = 3
_PASSAGE_CHARS = 600


class Passage(Protocol):
    """A retrieved knowledge-base passage (``bpract.kb.Passage`` fits)."""

    @property
    def text(self) -> str: ...


class Passages(Protocol):
    """Knowledge-base search (``bpract.kb.KnowledgeBase`` fits)."""

    async def search(self, site_id: int, query: str, k: int = 5) -> Sequence[Passage]: ...


class LLMDecider:
    """Asks the routed model for ``trigger_decision`` and checks its answer in code."""

    def __init__(self, gateway: Gateway, db: Database, *, kb: Passages | None = None) -> None:
        self.gateway = gateway
        self.db = db
        self.kb = kb
        self._inflight: set[asyncio.Task[Completion]] = set()

    async def decide(self, request: DecisionRequest) -> Decision:
        rule = request.rule
        if not self.gateway.policies.for_site(request.site_id).has_model:
            # The offline provider answers chat from the knowledge base; it cannot decide.
            return rule_message(rule, reason="no model configured: the rule's message")
        journey = await self.db.run(
            lambda c: load_journey(c, request.site_id, request.visitor, request.context)
        )
        passages = await self._passages(request, journey.get("title"))
        chat = decision_request(rule, journey, lang=request.lang, passages=passages)
        call = self.gateway.complete(
            task=TASK,
            tenant=request.site_id,
            department=rule.department,
            rule=rule.id,
            request=chat,
            output_type=Outreach,
        )
        task = asyncio.ensure_future(call)
        self._inflight.add(task)
        task.add_done_callback(self._finished)
        completion = await asyncio.shield(task)
        return self._checked(request, completion)

    def _checked(self, request: DecisionRequest, done: Completion) -> Decision:
        answer: Outreach = done.value
        cost = self.gateway.prices.price(done.provider, done.model).cost(done.usage)
        declined = Decision(
            engage=False, message="", cta=None, reason=answer.reason.strip()[:500],
            decided_by="llm", provider=done.provider, model=done.model, cost_nano=cost,
        )  # fmt: skip
        if not answer.engage:
            return declined
        rule = request.rule
        message = check_message(answer.message)
        check_language(message, request.lang)
        offer = check_offer(rule, answer.offer)
        cta = check_cta(rule, answer.cta_label, answer.cta_url)
        reason = declined.reason[:480] + (f" [offer {offer}]" if offer else "")
        return replace(declined, engage=True, message=message, cta=cta, reason=reason)

    async def _passages(self, request: DecisionRequest, title: object) -> list[str]:
        kb, site_id = self.kb, request.site_id
        if kb is None or not await self.db.run(lambda c: _has_knowledge(c, site_id)):
            return []
        query = " ".join(p for p in (request.rule.goal, str(title or "")) if p)
        try:
            found = await kb.search(site_id, query, k=_PASSAGES)
        except Exception as exc:  # a broken index must not stop outreach: decide without it
            log.warning("triggers: knowledge base unavailable for site %s: %r", site_id, exc)
            return []
        return [p.text[:_PASSAGE_CHARS] for p in found]

    def _finished(self, task: asyncio.Task[Completion]) -> None:
        self._inflight.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.info("triggers: decision call failed: %r", task.exception())

    async def aclose(self) -> None:
        """Cancel model calls still running after their fire was decided without them."""
        for task in list(self._inflight):
            task.cancel()
        await asyncio.gather(*self._inflight, return_exceptions=True)


def _has_knowledge(conn: apsw.Connection, site_id: int) -> bool:
    # Imported here: only asked when a knowledge base was given, so bpract.kb is loaded
    # already, and a decider without one does not pay for importing it.
    from bpract.kb.index import has_chunks

    return has_chunks(conn, site_id)


def decider_for(gateway: Gateway, db: Database, *, kb: Passages | None = None) -> Decider:
    """:class:`LLMDecider` when some policy names a real model, else the rule's own message."""
    policies = gateway.policies
    if any(p.has_model for p in (policies.default, *policies.per_site.values())):
        return LLMDecider(gateway, db, kb=kb)
    return RuleMessageDecider()
