"""Errors of the actions feature.

ActionsError (detail)
└── ActionsInvalidError   a declaration that does not validate (carries every problem)
"""

from __future__ import annotations

from bpract.errors import BpractError
from bpract.shape import FieldError, summary

__all__ = ["ActionsError", "ActionsInvalidError", "FieldError"]


class ActionsError(BpractError):
    """Root of the feature's errors; ``detail`` is safe to show to an admin."""


class ActionsInvalidError(ActionsError):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__(summary(errors))
        self.errors = errors
