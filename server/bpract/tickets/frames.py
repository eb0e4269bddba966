"""The ``ticket`` frame: the visitor's address and question, stored before its ack."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from bpract.tickets.service import TicketService
from bpract.wire.frames import Ticket
from bpract.wire.handlers import FollowUp, FrameHandlers, Visit

__all__ = ["Stored", "register"]

log = logging.getLogger("bpract.tickets")

Stored = Callable[[int, str], Awaitable[None]]
"""Told ``(site_id, visitor)`` after a ticket is stored (the inbox's queue shows it)."""


def register(
    frames: FrameHandlers, tickets: TicketService, *, stored: Stored | None = None
) -> None:
    """Store ``ticket`` frames (admitted within the visitor's, address's and site's limits)."""

    async def admit(visit: Visit, frame: Ticket) -> str | None:
        return await tickets.refusal(
            site_id=visit.site_id, visitor=visit.visitor, client=visit.client
        )

    async def ticket(visit: Visit, frame: Ticket) -> FollowUp | None:
        # Stored with its delivery before the ack: an acknowledged ticket is never lost.
        await tickets.submit(
            site_id=visit.site_id, visitor=visit.visitor, stream=visit.stream, seq=frame.seq,
            email=frame.email, text=frame.text, lang=visit.lang,
        )  # fmt: skip
        if stored is not None:
            try:
                await stored(visit.site_id, visit.visitor)
            except Exception:  # the ticket is stored and will be delivered all the same
                log.exception("tickets: telling the inbox of a ticket failed")
        return None

    frames.on(Ticket, ticket, admit=admit)
