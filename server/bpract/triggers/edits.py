"""Single-rule edits of a ruleset: add, replace, remove (each saved as a new version)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from bpract.triggers.errors import DuplicateRuleError, UnknownRuleError
from bpract_client.rules import Rule, Ruleset

__all__ = ["add_rule", "put_rule", "remove_rule", "replace_rule"]

Edit = Callable[[Ruleset], Ruleset]


def add_rule(rule: Rule) -> Edit:
    def edit(ruleset: Ruleset) -> Ruleset:
        if ruleset.get(rule.id) is not None:
            raise DuplicateRuleError(rule.id)
        return dataclasses.replace(ruleset, rules=[*ruleset.rules, rule])

    return edit


def replace_rule(rule: Rule) -> Edit:
    def edit(ruleset: Ruleset) -> Ruleset:
        if ruleset.get(rule.id) is None:
            raise UnknownRuleError(rule.id, f"no rule {rule.id!r}")
        rules = [rule if r.id == rule.id else r for r in ruleset.rules]
        return dataclasses.replace(ruleset, rules=rules)

    return edit


def remove_rule(rule_id: str) -> Edit:
    def edit(ruleset: Ruleset) -> Ruleset:
        if ruleset.get(rule_id) is None:
            raise UnknownRuleError(rule_id, f"no rule {rule_id!r}")
        return dataclasses.replace(ruleset, rules=[r for r in ruleset.rules if r.id != rule_id])

    return edit


def put_rule(rule: Rule) -> Edit:
    """Replace the rule with ``rule.id``, or add it when the ruleset has none (a restore)."""

    def edit(ruleset: Ruleset) -> Ruleset:
        if ruleset.get(rule.id) is None:
            return dataclasses.replace(ruleset, rules=[*ruleset.rules, rule])
        return dataclasses.replace(
            ruleset, rules=[rule if r.id == rule.id else r for r in ruleset.rules]
        )

    return edit
