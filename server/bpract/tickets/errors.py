"""Errors of the tickets feature."""

from __future__ import annotations

from bpract.errors import BpractError

__all__ = ["TicketSettingsError", "TicketsError"]


class TicketsError(BpractError):
    """Root of the feature's errors; ``detail`` is safe to show to an admin."""


class TicketSettingsError(TicketsError):
    """A change of ticket settings that is refused; ``field`` names the setting at fault."""

    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
