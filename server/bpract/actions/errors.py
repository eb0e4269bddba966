"""Errors of the actions feature.

ActionsError (detail)
└── ActionsInvalidError   a declaration that does not validate (carries every problem)
"""

from __future__ import annotations

import msgspec

from bpract.errors import BpractError

__all__ = ["ActionsError", "ActionsInvalidError", "FieldError"]


class FieldError(msgspec.Struct, frozen=True, kw_only=True):
    """One validation problem: where (``actions[0].parameters.properties.amount``) and what."""

    path: str
    message: str


class ActionsError(BpractError):
    """Root of the feature's errors; ``detail`` is safe to show to an admin."""


class ActionsInvalidError(ActionsError):
    def __init__(self, errors: list[FieldError]) -> None:
        first = errors[0] if errors else FieldError(path="$", message="invalid")
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        super().__init__(f"{first.path}: {first.message}{more}")
        self.errors = errors
