"""What an agent sees: the conversations waiting for a person on the organisation's sites, and
one conversation's transcript with the visitor's verified identity.

Only the agent's organisation's sites are read: another organisation's conversation is not
found, exactly like one that does not exist.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

import apsw

from bpract.chat import storage as chat
from bpract.chat.storage import Turn
from bpract.inbox.storage import Agent, Note, list_agents, notes_of
from bpract.sites import Site, list_sites
from bpract.store import Database
from bpract.tickets import tickets_of
from bpract.visitors.storage import visitor_traits

__all__ = [
    "ConversationView",
    "QueueEntry",
    "TicketEntry",
    "Visitor",
    "conversation_view",
    "mine",
    "site_ids",
    "tickets",
    "waiting",
]

_PREVIEW: Final = 140
_TRANSCRIPT: Final = 500
_NOTES: Final = 200
_NAME_TRAITS: Final = ("name", "full_name", "email")


@dataclass(frozen=True, slots=True, kw_only=True)
class Visitor:
    """Who a visitor is: their user id and traits only when the site's HMAC verified them."""

    id: str
    user_id: str | None
    traits: Mapping[str, Any] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """A name to show: a verified name or email, the user id, or a short visitor id."""
        for key in _NAME_TRAITS:
            value = self.traits.get(key)
            if isinstance(value, str) and value.strip():
                return value.strip()
        return self.user_id or f"Visitor {self.id.removeprefix('v_')[:8]}"


@dataclass(frozen=True, slots=True, kw_only=True)
class QueueEntry:
    """One line of the queue."""

    conversation: str
    site: str
    visitor: Visitor
    since_ms: int
    preview: str | None
    reason: str | None = None
    """Why it was handed off: what the visitor did, or the assistant's words."""
    department: str | None = None
    for_me: bool = False
    """Routed to this agent first."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketEntry:
    """An offline ticket: what the visitor left when no one could answer live."""

    id: str
    site: str
    email: str
    question: str
    lang: str
    created_ms: int
    delivery: str
    """``pending`` (retried), ``delivered`` to the site's webhook, or ``failed``."""
    conversation: str | None
    """The visitor's conversation, when it is still open."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ConversationView:
    conversation: str
    site: str
    site_id: int
    status: str
    started_ms: int
    visitor: Visitor
    turns: list[Turn]
    owner_agent: int | None = None
    owner_name: str | None = None
    department: str | None = None
    reason: str | None = None
    notes: list[Note] = field(default_factory=list)
    colleagues: list[Agent] = field(default_factory=list)
    """The organisation's other enabled agents (to transfer to)."""


def _visitor(conn: apsw.Connection, site_id: int, visitor: str) -> Visitor:
    found = visitor_traits(conn, site_id, visitor)
    user_id, traits_json = found if found is not None else (None, None)
    traits = json.loads(traits_json) if traits_json and user_id is not None else {}
    return Visitor(id=visitor, user_id=user_id, traits=traits if isinstance(traits, dict) else {})


def _preview(text: str | None) -> str | None:
    if text is None:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= _PREVIEW else flat[: _PREVIEW - 1].rstrip() + "…"


def _sites(conn: apsw.Connection, agent: Agent) -> dict[int, Site]:
    return {s.id: s for s in list_sites(conn, org_id=agent.org_id)}


async def site_ids(db: Database, agent: Agent) -> list[int]:
    """The ids of the agent's organisation's sites: all an agent may read or act on."""
    return list(await db.run(lambda conn: _sites(conn, agent)))


async def waiting(db: Database, agent: Agent, limit: int) -> list[QueueEntry]:
    """The conversations handed to a person on the agent's organisation's sites, oldest first."""

    def read(conn: apsw.Connection) -> list[QueueEntry]:
        sites = _sites(conn, agent)
        return [
            QueueEntry(
                conversation=w.id,
                site=sites[w.site_id].name,
                visitor=_visitor(conn, w.site_id, w.visitor),
                since_ms=w.since_ms,
                preview=_preview(w.last_visitor_text),
                reason=_preview(w.reason),
                department=w.department,
                for_me=w.routed_agent == agent.id,
            )
            for w in chat.waiting_conversations(conn, list(sites), limit)
        ]

    return await db.run(read)


async def mine(db: Database, agent: Agent, limit: int) -> list[QueueEntry]:
    """The conversations the agent has, most recently active first."""

    def read(conn: apsw.Connection) -> list[QueueEntry]:
        sites = _sites(conn, agent)
        return [
            QueueEntry(
                conversation=c.id,
                site=sites[c.site_id].name,
                visitor=_visitor(conn, c.site_id, c.visitor),
                since_ms=c.last_ms,
                preview=None,
            )
            for c in chat.owned_by(conn, list(sites), agent.id, limit)
        ]

    return await db.run(read)


async def tickets(db: Database, agent: Agent, limit: int) -> list[TicketEntry]:
    """The newest offline tickets of the agent's organisation's sites, newest first."""

    def read(conn: apsw.Connection) -> list[TicketEntry]:
        sites = _sites(conn, agent)
        found = []
        for t in tickets_of(conn, list(sites), limit):
            conv = chat.find_conversation(conn, t.site_id, t.visitor, 0)
            entry = TicketEntry(
                id=t.id, site=sites[t.site_id].name, email=t.email, question=t.question,
                lang=t.lang, created_ms=t.created_ms, delivery=t.state,
                conversation=conv.id if conv is not None else None,
            )  # fmt: skip
            found.append(entry)
        return found

    return await db.run(read)


async def conversation_view(
    db: Database, agent: Agent, conversation: str
) -> ConversationView | None:
    """A conversation of the agent's organisation with its transcript; None for any other."""

    def read(conn: apsw.Connection) -> ConversationView | None:
        sites = _sites(conn, agent)
        found = chat.conversation_in(conn, list(sites), conversation)
        if found is None:
            return None
        handoff = chat.handoff_of(conn, found.site_id, found.id)
        return ConversationView(
            conversation=found.id, site=sites[found.site_id].name, site_id=found.site_id,
            status=found.status, started_ms=found.started_ms,
            visitor=_visitor(conn, found.site_id, found.visitor),
            turns=chat.recent_turns(conn, found.site_id, found.id, _TRANSCRIPT),
            owner_agent=found.owner_agent, owner_name=found.owner_name,
            department=handoff[1], reason=handoff[0],
            notes=notes_of(conn, agent.org_id, found.id, _NOTES),
            colleagues=[
                a for a in list_agents(conn, agent.org_id)
                if a.disabled_at is None and a.id != agent.id
            ],
        )  # fmt: skip

    return await db.run(read)
