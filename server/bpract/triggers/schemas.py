"""Response shapes of the rules API."""

from __future__ import annotations

from typing import Any

import msgspec

from bpract.triggers.errors import FieldError
from bpract.triggers.report import RuleReport

__all__ = [
    "ErrorOut",
    "ReportOut",
    "RuleOut",
    "RulesetOut",
    "ValidationOut",
    "VersionOut",
]


class RulesetOut(msgspec.Struct, kw_only=True):
    """The current compiled ruleset of a site (version 0 when none was saved)."""

    site: str
    version: int
    author: str
    created_at: str
    ruleset: dict[str, Any]


class RuleOut(msgspec.Struct, kw_only=True):
    """One compiled rule and the ruleset version it belongs to."""

    version: int
    rule: dict[str, Any]


class VersionOut(msgspec.Struct, kw_only=True):
    version: int
    author: str
    created_at: str
    rules: int
    source: str


class ValidationOut(msgspec.Struct, kw_only=True):
    ok: bool
    errors: list[FieldError]
    rules: int


class ReportOut(msgspec.Struct, kw_only=True):
    site: str
    days: float
    rules: list[RuleReport]


class ErrorOut(msgspec.Struct, kw_only=True):
    status_code: int
    detail: str
    errors: list[FieldError] = msgspec.field(default_factory=list)
