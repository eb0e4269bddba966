"""Errors of the trigger feature.

TriggersError (detail)
├── RulesetInvalidError   input that does not validate (carries the error list)
├── UnknownSiteError      no site with that public key
├── UnknownRuleError      a fire or an edit names a rule the ruleset does not have
└── DuplicateRuleError    adding a rule whose id is taken
"""

from __future__ import annotations

from bpract.errors import BpractError
from bpract.shape import FieldError, summary

__all__ = [
    "DuplicateRuleError",
    "FieldError",
    "RulesetInvalidError",
    "TriggersError",
    "UnknownRuleError",
    "UnknownSiteError",
]


class TriggersError(BpractError):
    """Root of the feature's errors; ``detail`` is safe to show to an admin."""


class RulesetInvalidError(TriggersError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(summary(errors))
        self.errors = errors


class UnknownSiteError(TriggersError):
    pass


class UnknownRuleError(TriggersError):
    def __init__(self, rule_id: str, detail: str | None = None) -> None:
        super().__init__(detail or f"no enabled rule {rule_id!r} in the current ruleset")
        self.rule_id = rule_id


class DuplicateRuleError(TriggersError):
    def __init__(self, rule_id: str) -> None:
        super().__init__(f"a rule {rule_id!r} already exists")
        self.rule_id = rule_id
