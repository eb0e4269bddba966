"""Offline tickets: when no one can answer live, the visitor's email and question, delivered
to the site's webhook, signed, from an outbox in the database.

A site's settings (webhook, signing secret, business hours), the ``ticket`` frame,
the delivery job, and :func:`open_now` for the chat to know whether it is within hours.
"""

from __future__ import annotations

from bpract.tickets.errors import TicketsError, TicketSettingsError
from bpract.tickets.service import SiteTickets, TicketService, open_now
from bpract.tickets.settings import TicketSettings
from bpract.tickets.storage import TicketRow, tickets_of

__all__ = [
    "SiteTickets",
    "TicketRow",
    "TicketService",
    "TicketSettings",
    "TicketSettingsError",
    "TicketsError",
    "open_now",
    "tickets_of",
]
