"""The ``ticket`` frame: the visitor's address and question, stored before its ack."""

from __future__ import annotations

from bpract.tickets.service import TicketService
from bpract.wire.frames import Ticket
from bpract.wire.handlers import FollowUp, FrameHandlers, Visit

__all__ = ["register"]


def register(frames: FrameHandlers, tickets: TicketService) -> None:
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
        return None

    frames.on(Ticket, ticket, admit=admit)
