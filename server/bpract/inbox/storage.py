"""SQL of the inbox: agents, sessions (by the sha256 of their cookie), failed sign-ins, secrets,
the agents' connections (presence) and when each was last routed to."""

from __future__ import annotations

import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import apsw

from bpract.store import dialect, insert_id

__all__ = [
    "Agent",
    "Failures",
    "Note",
    "agent_by_email",
    "agent_by_id",
    "delete_presence",
    "delete_presence_of",
    "delete_session",
    "delete_sessions_of",
    "disable_agent",
    "enabled_with_email",
    "failures_of",
    "forget_failures",
    "insert_agent",
    "insert_note",
    "insert_session",
    "list_agents",
    "mark_routed",
    "notes_of",
    "presence_of",
    "prune_presence",
    "prune_sessions",
    "put_failures",
    "put_presence",
    "routed_at",
    "secret",
    "set_access",
    "set_departments",
    "set_max_open",
    "set_password_hash",
    "use_session",
]

_AGENT_COLUMNS = (
    "id, org_id, email, display_name, role, departments, created_at, disabled_at, max_open, access"
)
_AGENT = f"SELECT {_AGENT_COLUMNS} FROM inbox_agents"  # noqa: S608 - fixed column names


@dataclass(frozen=True, slots=True, kw_only=True)
class Agent:
    """A person who answers visitors for one organisation (never their password hash)."""

    id: int
    org_id: int
    email: str
    display_name: str
    role: str
    departments: list[str]
    created_at: str
    disabled_at: str | None
    max_open: int | None = None
    """The most conversations routing gives them at once (None: ``BPRACT_INBOX_MAX_OPEN``)."""
    access: str = "agent"
    """What they may do in the console: ``owner``, ``marketer`` or ``agent``."""


@dataclass(frozen=True, slots=True)
class Failures:
    """The failed sign-ins still counted for one address."""

    count: int
    first_ms: int
    locked_until_ms: int


def _agent(row: Sequence[Any]) -> Agent:
    id_, org_id, email, name, role, departments, created, disabled, max_open, access = row
    return Agent(
        id=int(id_), org_id=int(org_id), email=str(email), display_name=str(name),
        role=str(role), departments=[str(d) for d in json.loads(departments)],
        created_at=str(created), disabled_at=None if disabled is None else str(disabled),
        max_open=None if max_open is None else int(max_open), access=str(access),
    )  # fmt: skip


def insert_agent(
    conn: apsw.Connection,
    *,
    org_id: int,
    email: str,
    display_name: str,
    password_hash: str,
    role: str,
    departments: Sequence[str],
    created_at: str,
    max_open: int | None = None,
    access: str = "agent",
) -> int:
    """Store a new agent; its id."""
    return insert_id(
        conn,
        "INSERT INTO inbox_agents (org_id, email, display_name, password_hash, role, departments,"
        " created_at, max_open, access) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (org_id, email, display_name, password_hash, role, json.dumps(list(departments)),
         created_at, max_open, access),
    )  # fmt: skip


def agent_by_email(conn: apsw.Connection, org_id: int, email: str) -> Agent | None:
    row = conn.execute(_AGENT + " WHERE org_id = ? AND email = ?", (org_id, email)).fetchone()
    return None if row is None else _agent(row)


def agent_by_id(conn: apsw.Connection, agent_id: int) -> Agent | None:
    row = conn.execute(_AGENT + " WHERE id = ?", (agent_id,)).fetchone()
    return None if row is None else _agent(row)


def enabled_with_email(conn: apsw.Connection, email: str) -> list[tuple[Agent, str]]:
    """Every agent not disabled with this address (one per organisation), and its hash."""
    rows = conn.execute(
        f"SELECT {_AGENT_COLUMNS}, password_hash FROM inbox_agents"  # noqa: S608
        " WHERE email = ? AND disabled_at IS NULL ORDER BY id",
        (email,),
    ).fetchall()
    return [(_agent(row[:-1]), str(row[-1])) for row in rows]


def list_agents(conn: apsw.Connection, org_id: int | None = None) -> list[Agent]:
    """Every agent, or only organisation ``org_id``'s, oldest first."""
    if org_id is None:
        return [_agent(r) for r in conn.execute(_AGENT + " ORDER BY id")]
    return [_agent(r) for r in conn.execute(_AGENT + " WHERE org_id = ? ORDER BY id", (org_id,))]


def disable_agent(conn: apsw.Connection, agent_id: int, at: str) -> None:
    """Disable an agent (kept, listed as disabled), end its sessions and its presence."""
    conn.execute(
        "UPDATE inbox_agents SET disabled_at = ? WHERE id = ? AND disabled_at IS NULL",
        (at, agent_id),
    )
    delete_sessions_of(conn, agent_id)
    delete_presence_of(conn, agent_id)


def set_password_hash(conn: apsw.Connection, agent_id: int, password_hash: str) -> None:
    conn.execute(
        "UPDATE inbox_agents SET password_hash = ? WHERE id = ?", (password_hash, agent_id)
    )


def set_max_open(conn: apsw.Connection, agent_id: int, max_open: int | None) -> None:
    """The agent's own limit of open conversations (None: the server's default)."""
    conn.execute("UPDATE inbox_agents SET max_open = ? WHERE id = ?", (max_open, agent_id))


def set_access(conn: apsw.Connection, agent_id: int, access: str) -> None:
    """What the person may do in the console (``owner``, ``marketer``, ``agent``)."""
    conn.execute("UPDATE inbox_agents SET access = ? WHERE id = ?", (access, agent_id))


def set_departments(conn: apsw.Connection, agent_id: int, departments: Sequence[str]) -> None:
    conn.execute(
        "UPDATE inbox_agents SET departments = ? WHERE id = ?",
        (json.dumps(list(departments)), agent_id),
    )


def routed_at(conn: apsw.Connection, org_id: int) -> dict[int, int]:
    """When a conversation was last routed to each of the organisation's agents (never: left
    out)."""
    rows = conn.execute(
        "SELECT id, last_routed_ms FROM inbox_agents WHERE org_id = ?"
        " AND last_routed_ms IS NOT NULL",
        (org_id,),
    ).fetchall()
    return {int(str(agent)): int(str(at)) for agent, at in rows}


def mark_routed(conn: apsw.Connection, org_id: int, agent_id: int, now_ms: int) -> None:
    """Record a route to this agent: ``now_ms``, or just after the organisation's latest route
    when that is not earlier (the same millisecond, a clock behind another process's), so the
    latest route is always the latest stamp."""
    latest = "COALESCE((SELECT MAX(last_routed_ms) FROM inbox_agents WHERE org_id = ?), 0) + 1"
    conn.execute(
        f"UPDATE inbox_agents SET last_routed_ms = {dialect.greatest('?', latest)}"  # noqa: S608
        " WHERE id = ? AND org_id = ?",
        (now_ms, org_id, agent_id, org_id),
    )


# -- presence ----------------------------------------------------------------------------------


def put_presence(
    conn: apsw.Connection, conn_id: str, agent_id: int, state: str, now_ms: int
) -> bool:
    """Record a heartbeat of one connection of an enabled agent; False when the agent is
    unknown or disabled, or the connection id is another agent's."""
    row = conn.execute(
        "INSERT INTO inbox_presence (conn_id, agent_id, state, seen_ms)"  # noqa: S608
        " SELECT ?, id, ?, ? FROM inbox_agents WHERE id = ? AND disabled_at IS NULL"
        " ON CONFLICT (conn_id) DO UPDATE SET state = excluded.state,"
        f" seen_ms = {dialect.greatest('inbox_presence.seen_ms', 'excluded.seen_ms')}"
        " WHERE inbox_presence.agent_id = excluded.agent_id RETURNING conn_id",
        (conn_id, state, now_ms, agent_id),
    ).fetchone()
    return row is not None


def delete_presence(conn: apsw.Connection, conn_id: str) -> bool:
    """Forget one connection; False when there was none."""
    cursor = conn.execute("DELETE FROM inbox_presence WHERE conn_id = ? RETURNING conn_id",
                          (conn_id,))  # fmt: skip
    return cursor.fetchone() is not None


def delete_presence_of(conn: apsw.Connection, agent_id: int) -> int:
    """Forget every connection of an agent; how many there were."""
    return len(
        conn.execute(
            "DELETE FROM inbox_presence WHERE agent_id = ? RETURNING conn_id", (agent_id,)
        ).fetchall()
    )


def prune_presence(conn: apsw.Connection, seen_before_ms: int) -> int:
    """Forget the connections last seen before ``seen_before_ms``; how many."""
    return len(
        conn.execute(
            "DELETE FROM inbox_presence WHERE seen_ms < ? RETURNING conn_id", (seen_before_ms,)
        ).fetchall()
    )


def presence_of(conn: apsw.Connection, org_id: int, seen_since_ms: int) -> dict[int, bool]:
    """The organisation's enabled agents with a connection seen since ``seen_since_ms``, and
    whether any of those connections is online (else all are away)."""
    rows = conn.execute(
        "SELECT p.agent_id, MAX(CASE WHEN p.state = 'online' THEN 1 ELSE 0 END)"
        " FROM inbox_presence p JOIN inbox_agents a ON a.id = p.agent_id"
        " WHERE a.org_id = ? AND a.disabled_at IS NULL AND p.seen_ms >= ?"
        " GROUP BY p.agent_id",
        (org_id, seen_since_ms),
    ).fetchall()
    return {int(str(agent)): bool(online) for agent, online in rows}


# -- sessions ---------------------------------------------------------------------------------


def insert_session(
    conn: apsw.Connection, id_hash: str, agent_id: int, now_ms: int, expires_ms: int
) -> None:
    conn.execute(
        "INSERT INTO inbox_sessions (id_hash, agent_id, created_ms, seen_ms, expires_ms)"
        " VALUES (?, ?, ?, ?, ?)",
        (id_hash, agent_id, now_ms, now_ms, expires_ms),
    )


def use_session(
    conn: apsw.Connection, id_hash: str, now_ms: int, idle_since_ms: int
) -> Agent | None:
    """The enabled agent of a live session (seen after ``idle_since_ms``, not past its end),
    its use recorded; None for an unknown, idle, expired or disabled agent's session."""
    row = conn.execute(
        "UPDATE inbox_sessions SET seen_ms = ? WHERE id_hash = ? AND expires_ms > ?"
        " AND seen_ms > ? RETURNING agent_id",
        (now_ms, id_hash, now_ms, idle_since_ms),
    ).fetchone()
    if row is None:
        return None
    agent = agent_by_id(conn, int(row[0]))
    return agent if agent is not None and agent.disabled_at is None else None


def delete_session(conn: apsw.Connection, id_hash: str) -> bool:
    """End one session; False when there was none."""
    cursor = conn.execute("DELETE FROM inbox_sessions WHERE id_hash = ? RETURNING id_hash",
                          (id_hash,))  # fmt: skip
    return cursor.fetchone() is not None


def delete_sessions_of(conn: apsw.Connection, agent_id: int) -> None:
    conn.execute("DELETE FROM inbox_sessions WHERE agent_id = ?", (agent_id,))


def prune_sessions(conn: apsw.Connection, now_ms: int, idle_since_ms: int) -> None:
    """Forget every session that has ended (idle or past its end)."""
    conn.execute(
        "DELETE FROM inbox_sessions WHERE expires_ms <= ? OR seen_ms <= ?",
        (now_ms, idle_since_ms),
    )


# -- failed sign-ins -------------------------------------------------------------------------


def failures_of(conn: apsw.Connection, email: str) -> Failures | None:
    row = conn.execute(
        "SELECT failures, first_ms, locked_until_ms FROM inbox_sign_in_failures WHERE email = ?",
        (email,),
    ).fetchone()
    return None if row is None else Failures(int(row[0]), int(row[1]), int(row[2]))


def put_failures(conn: apsw.Connection, email: str, failures: Failures) -> None:
    conn.execute(
        "INSERT INTO inbox_sign_in_failures (email, failures, first_ms, locked_until_ms)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (email) DO UPDATE SET failures = excluded.failures,"
        " first_ms = excluded.first_ms, locked_until_ms = excluded.locked_until_ms",
        (email, failures.count, failures.first_ms, failures.locked_until_ms),
    )


def forget_failures(conn: apsw.Connection, email: str) -> None:
    conn.execute("DELETE FROM inbox_sign_in_failures WHERE email = ?", (email,))


# -- secrets -----------------------------------------------------------------------------------


def secret(conn: apsw.Connection, name: str) -> str:
    """The server secret called ``name``, made on first use."""
    conn.execute(
        "INSERT INTO inbox_secrets (name, secret) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
        (name, secrets.token_urlsafe(32)),
    )
    row = conn.execute("SELECT secret FROM inbox_secrets WHERE name = ?", (name,)).fetchone()
    assert row is not None  # inserted just now, or by another worker first
    return str(row[0])


# -- private notes -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Note:
    """A private note on a conversation, for the team only."""

    id: int
    author: str
    text: str
    at_ms: int


def insert_note(
    conn: apsw.Connection, *, org_id: int, site_id: int, conversation: str, agent_id: int,
    author: str, text: str, at_ms: int,
) -> int:  # fmt: skip
    return insert_id(
        conn,
        "INSERT INTO inbox_notes (org_id, site_id, conversation_id, agent_id, author, text,"
        " at_ms) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (org_id, site_id, conversation, agent_id, author, text, at_ms),
    )


def notes_of(conn: apsw.Connection, org_id: int, conversation: str, limit: int) -> list[Note]:
    """The organisation's notes on a conversation, oldest first."""
    rows = conn.execute(
        "SELECT id, author, text, at_ms FROM inbox_notes WHERE org_id = ? AND conversation_id = ?"
        " ORDER BY at_ms, id LIMIT ?",
        (org_id, conversation, limit),
    ).fetchall()
    return [
        Note(id=int(str(i)), author=str(a), text=str(t), at_ms=int(str(m))) for i, a, t, m in rows
    ]
