"""Who is in the inbox: each agent connection's heartbeat, stored, so any process can tell.

An open inbox (a tab, a socket on any server process) beats every ``BPRACT_INBOX_HEARTBEAT``
seconds with its ``conn_id`` and state, ``online`` or ``away``; each connection is a row of
``inbox_presence``. An agent is

- *online* when one of their connections is online and was seen within
  ``BPRACT_INBOX_PRESENCE_TIMEOUT`` seconds (45),
- *away* when connections were seen within it but all of them are away,
- *offline* otherwise (none, all timed out, signed out, disabled).

Only online agents are routed to. An agent's *team* for a department is the organisation's
enabled agents who list it; when none does (a department nobody staffs), it is those who list
the default department (``support``); when none lists that either, every enabled agent of the
organisation. The team depends on who is staffed, never on who is connected: when the billing
team is all offline, a billing conversation waits, it is not given to support.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

import apsw

from bpract.chat import storage as chat
from bpract.inbox import storage
from bpract.inbox.agents import DEFAULT_DEPARTMENTS
from bpract.inbox.errors import InboxError
from bpract.inbox.settings import InboxSettings
from bpract.inbox.storage import Agent
from bpract.settings import get_settings
from bpract.store import Database

__all__ = [
    "STATES",
    "PresenceState",
    "available",
    "beat",
    "candidates",
    "leave",
    "leave_agent",
    "limit_of",
    "online_agents",
    "prune",
    "states",
    "team",
]

PresenceState = Literal["online", "away", "offline"]
STATES: Final = ("online", "away")
"""The states a connection beats with."""
_MAX_CONN_ID: Final = 128


def _settings(settings: InboxSettings | None) -> InboxSettings:
    """``settings``, else the server's (read from the environment once)."""
    return settings if settings is not None else get_settings().of(InboxSettings)


def _seen_since(now_ms: int, settings: InboxSettings | None) -> int:
    return now_ms - int(_settings(settings).presence_timeout * 1000)


def limit_of(agent: Agent, settings: InboxSettings | None = None) -> int:
    """The most open conversations routing gives this agent."""
    return agent.max_open if agent.max_open is not None else _settings(settings).max_open


def team(agents: Sequence[Agent], department: str | None) -> list[Agent]:
    """The enabled agents who answer for ``department`` (None: all of them), by the fallback
    rule of this module."""
    enabled = [a for a in agents if a.disabled_at is None]
    if department is None:
        return enabled
    for name in (department, *DEFAULT_DEPARTMENTS):
        staffed = [a for a in enabled if name in a.departments]
        if staffed:
            return staffed
    return enabled


async def beat(db: Database, conn_id: str, agent: int | Agent, state: str, now_ms: int) -> bool:
    """A heartbeat of connection ``conn_id`` of ``agent`` in ``state`` (``online``/``away``);
    False when the agent is unknown or disabled, or the connection id is another agent's.
    Raises :class:`InboxError` for another state or an empty or overlong connection id."""
    if state not in STATES:
        raise InboxError(f"a connection is online or away, not {state!r}")
    if not conn_id or len(conn_id) > _MAX_CONN_ID:
        raise InboxError(f"a connection id is 1 to {_MAX_CONN_ID} characters")
    agent_id = agent if isinstance(agent, int) else agent.id
    return await db.transaction(lambda c: storage.put_presence(c, conn_id, agent_id, state, now_ms))


async def leave(db: Database, conn_id: str) -> bool:
    """Connection ``conn_id`` closed; False when it was not known (already gone or pruned)."""
    return await db.transaction(lambda c: storage.delete_presence(c, conn_id))


async def leave_agent(db: Database, agent_id: int) -> int:
    """The agent signed out: every connection of theirs is gone; how many there were."""
    return await db.transaction(lambda c: storage.delete_presence_of(c, agent_id))


async def prune(db: Database, now_ms: int, *, settings: InboxSettings | None = None) -> int:
    """Forget the connections not seen within the timeout (they count for nothing already);
    how many."""
    since = _seen_since(now_ms, settings)
    return await db.transaction(lambda c: storage.prune_presence(c, since))


def _online(
    conn: apsw.Connection, org_id: int, department: str | None, now_ms: int,
    settings: InboxSettings | None,
) -> list[Agent]:  # fmt: skip
    present = storage.presence_of(conn, org_id, _seen_since(now_ms, settings))
    return [a for a in team(storage.list_agents(conn, org_id), department) if present.get(a.id)]


def candidates(
    conn: apsw.Connection, org_id: int, department: str | None, now_ms: int,
    settings: InboxSettings | None = None,
) -> list[Agent]:  # fmt: skip
    """The online agents of the department's team who are under their limit, by agent id."""
    online = _online(conn, org_id, department, now_ms, settings)
    counts = chat.owned_counts(conn, [a.id for a in online])
    return [a for a in online if counts.get(a.id, 0) < limit_of(a, settings)]


async def online_agents(
    db: Database, org_id: int, department: str | None, now_ms: int, *,
    settings: InboxSettings | None = None,
) -> list[Agent]:  # fmt: skip
    """The online (not away) agents of the department's team (None: of the organisation), by
    agent id: those routing considers, whatever their load."""
    return await db.run(lambda c: _online(c, org_id, department, now_ms, settings))


async def available(
    db: Database, org_id: int, department: str | None, now_ms: int, *,
    settings: InboxSettings | None = None,
) -> bool:  # fmt: skip
    """Whether routing would find someone now: an online agent of the department's team under
    their limit."""
    return bool(await db.run(lambda c: candidates(c, org_id, department, now_ms, settings)))


async def states(
    db: Database, org_id: int, now_ms: int, *, settings: InboxSettings | None = None
) -> dict[int, PresenceState]:
    """Every enabled agent of the organisation: online, away or offline."""

    def read(conn: apsw.Connection) -> dict[int, PresenceState]:
        present = storage.presence_of(conn, org_id, _seen_since(now_ms, settings))
        shown: dict[int, PresenceState] = {}
        for agent in storage.list_agents(conn, org_id):
            if agent.disabled_at is None:
                online = present.get(agent.id)
                shown[agent.id] = "offline" if online is None else "online" if online else "away"
        return shown

    return await db.run(read)
