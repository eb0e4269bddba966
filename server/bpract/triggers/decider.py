"""The decider seam: given a fire that passed policy, engage or not, and with what message.

A decider only proposes; the policy that ran before it (caps, cooldowns,
budgets, holdout) is enforced in code it cannot influence.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Protocol

from bpract.links import safe_link
from bpract_client.rules import CTA, Rule

__all__ = [
    "Decider",
    "Decision",
    "DecisionRequest",
    "RuleMessageDecider",
    "decide_or_fall_back",
    "rule_message",
]

_MAX_MESSAGE = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionRequest:
    site_id: int
    rule: Rule
    visitor: str
    context: dict[str, Any] = field(default_factory=dict)
    lang: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    engage: bool
    message: str
    cta: CTA | None
    reason: str
    decided_by: str
    provider: str = ""
    model: str = ""
    cost_nano: int = 0
    """What the model call behind the decision cost (nano-dollars); 0 without one."""


class Decider(Protocol):
    async def decide(self, request: DecisionRequest) -> Decision: ...


class RuleMessageDecider:
    """Always engages with the rule's own message (the offline decider, and the fallback)."""

    async def decide(self, request: DecisionRequest) -> Decision:
        return rule_message(request.rule, reason="the rule's message")


def rule_message(rule: Rule, *, reason: str) -> Decision:
    cta = rule.message.cta
    if cta is not None and cta.url is not None and safe_link(cta.url) is None:
        cta = None  # stored before CTAs were checked on load: never sent to a browser
    return Decision(
        engage=True,
        message=rule.message.text,
        cta=cta,
        reason=reason,
        decided_by="rule",
    )


async def decide_or_fall_back(
    decider: Decider, request: DecisionRequest, *, timeout_s: float
) -> Decision:
    """Ask ``decider``; if it fails or is slower than ``timeout_s``, apply ``on_decider_failure``.

    ``fallback`` sends the rule's own message; ``skip`` declines.
    """
    try:
        decision = await asyncio.wait_for(decider.decide(request), timeout=timeout_s)
        if decision.engage and not 0 < len(decision.message.strip()) <= _MAX_MESSAGE:
            raise ValueError(f"message must be 1..{_MAX_MESSAGE} characters")
        return decision
    except Exception as exc:  # any failure of a decider is handled by the rule's setting
        failure = "timed out" if isinstance(exc, TimeoutError) else f"failed ({exc!r})"
    rule = request.rule
    if rule.on_decider_failure == "skip":
        return Decision(
            engage=False,
            message="",
            cta=None,
            reason=f"decider {failure}; rule says skip",
            decided_by="policy",
        )
    return rule_message(rule, reason=f"decider {failure}; rule's message sent instead")
