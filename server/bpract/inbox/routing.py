"""Routing: offer a conversation waiting for a person to one agent first, round robin.

Among the online agents of the department's team (see :mod:`bpract.inbox.presence` for the
team and the fallback when no one staffs the department) who have fewer open conversations
than their limit, the one routed to longest ago (never: first) gets it, ties by agent id. The
choice and its record (``routed_agent`` of the conversation, ``last_routed_ms`` of the agent)
are one transaction that takes the write lock before it reads, so two processes routing at
once do not both pick the same agent. When no one can take it, the conversation's route is
cleared (None): it waits in everyone's queue.
"""

from __future__ import annotations

from collections.abc import Sequence

import apsw

from bpract.chat import storage as chat
from bpract.chat.storage import Conversation
from bpract.inbox import storage
from bpract.inbox.presence import candidates
from bpract.inbox.settings import InboxSettings
from bpract.inbox.storage import Agent
from bpract.sites import list_sites
from bpract.store import Database

__all__ = ["pick", "route"]


def pick(agents: Sequence[Agent], routed_at: dict[int, int]) -> Agent | None:
    """The agent routed to longest ago (never routed: before anyone), ties by agent id."""
    return min(agents, key=lambda a: (routed_at.get(a.id, -1), a.id), default=None)


async def route(
    db: Database,
    conversation: Conversation | tuple[int, str],
    org_id: int,
    department: str | None,
    now_ms: int,
    *,
    settings: InboxSettings | None = None,
) -> Agent | None:
    """Route a waiting conversation of organisation ``org_id`` to an agent and record it; the
    agent, or None when no one can take it now, when it is not one of the organisation's
    sites' or when it no longer waits (someone has it, it went back to the bot, resolved)."""
    site_id, conversation_id = (
        (conversation.site_id, conversation.id)
        if isinstance(conversation, Conversation)
        else conversation
    )

    def routed(conn: apsw.Connection) -> Agent | None:
        sites = [s.id for s in list_sites(conn, org_id=org_id)]
        found = chat.conversation_in(conn, sites, conversation_id)
        if found is None or found.site_id != site_id:
            return None
        if found.status != "human" or found.owner_agent is not None:
            return None
        chosen = pick(
            candidates(conn, org_id, department, now_ms, settings),
            storage.routed_at(conn, org_id),
        )
        chat.route(conn, site_id, conversation_id, None if chosen is None else chosen.id)
        if chosen is not None:
            storage.mark_routed(conn, org_id, chosen.id, now_ms)
        return chosen

    return await db.transaction(routed, lock=True)
