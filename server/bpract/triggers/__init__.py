"""Trigger rules: storage and versions, validation, policy, the decider seam, outcomes, reports."""

from __future__ import annotations

from bpract.triggers.decider import Decider, Decision, DecisionRequest, RuleMessageDecider
from bpract.triggers.errors import (
    DuplicateRuleError,
    FieldError,
    RulesetInvalidError,
    TriggersError,
    UnknownRuleError,
    UnknownSiteError,
)
from bpract.triggers.service import FireResult, TriggerService
from bpract.triggers.spec import compile_ruleset, load_rule, load_ruleset

__all__ = [
    "Decider",
    "Decision",
    "DecisionRequest",
    "DuplicateRuleError",
    "FieldError",
    "FireResult",
    "RuleMessageDecider",
    "RulesetInvalidError",
    "TriggerService",
    "TriggersError",
    "UnknownRuleError",
    "UnknownSiteError",
    "compile_ruleset",
    "load_rule",
    "load_ruleset",
]
