"""Routing: task and query → tier → a compliant fallback chain of provider models."""

from __future__ import annotations

import msgspec

from bpract.llm.budget import Pressure
from bpract.llm.complexity import estimate
from bpract.llm.policy import TIERS, Policy, Tier

__all__ = ["Candidate", "Route", "Router"]


class Candidate(msgspec.Struct, frozen=True, kw_only=True):
    """One provider model the call may go to."""

    provider: str
    model: str
    tier: Tier


class Route(msgspec.Struct, frozen=True, kw_only=True):
    """The chosen tier, the chain to try in order, and why."""

    tier: Tier
    candidates: tuple[Candidate, ...]
    reason: str


class Router:
    """Pure routing decisions; the gateway supplies budget pressure and the query."""

    def route(
        self,
        policy: Policy,
        *,
        task: str,
        data_class: str = "general",
        query: str = "",
        retrieval_confidence: float | None = None,
        pressure: Pressure | None = None,
    ) -> Route:
        tier, why = self._tier(policy, task, query, retrieval_confidence)
        if pressure is not None and tier != "fast" and _near_limit(policy, pressure):
            tier = TIERS[TIERS.index(tier) - 1]
            why.append(f"budget at {pressure.ratio:.0%}, stepped down to {tier}")
        chain, dropped = self._chain(policy, tier, data_class)
        if dropped:
            why.append(f"compliance ({data_class}) excluded {', '.join(dropped)}")
        return Route(tier=tier, candidates=chain, reason="; ".join(why))

    def allowed(self, policy: Policy, data_class: str, provider: str) -> bool:
        """Whether every compliance rule for ``data_class`` allows ``provider``."""
        spec = policy.providers.get(provider)
        return spec is not None and all(
            rule.allows(provider, spec) for rule in policy.rules_for(data_class)
        )

    def _tier(
        self, policy: Policy, task: str, query: str, confidence: float | None
    ) -> tuple[Tier, list[str]]:
        choice = policy.tasks.get(task, "capable")
        if choice != "auto":
            tier: Tier = "capable" if choice not in TIERS else choice
            return tier, [f"{task} → {tier} by policy"]
        found = estimate(query, confidence)
        signals = ", ".join(found.signals) or "simple query"
        return found.tier, [f"{task}: complexity {found.score:g} ({signals}) → {found.tier}"]

    def _chain(
        self, policy: Policy, tier: Tier, data_class: str
    ) -> tuple[tuple[Candidate, ...], list[str]]:
        # The chosen tier first, then cheaper tiers, then dearer ones: availability over quality.
        at = TIERS.index(tier)
        order = [tier, *reversed(TIERS[:at]), *TIERS[at + 1 :]]
        chain: list[Candidate] = []
        dropped: list[str] = []
        for t in order:
            for ref in policy.tiers.get(t, []):
                provider, _, model = ref.partition(":")
                candidate = Candidate(provider=provider, model=model, tier=t)
                if candidate in chain or ref in dropped:
                    continue
                if self.allowed(policy, data_class, provider):
                    chain.append(candidate)
                else:
                    dropped.append(ref)
        return tuple(chain), dropped


def _near_limit(policy: Policy, pressure: Pressure) -> bool:
    return pressure.ratio >= policy.step_down_at or pressure.soft_exceeded
