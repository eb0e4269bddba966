"""Pending actions in SQL: proposed, claimed once, settled once.

A row moves ``pending`` → ``running`` (claimed by exactly one confirm, under the
write lock) → ``succeeded`` / ``failed``; or ``pending`` → ``declined`` /
``expired`` / ``refused``.  A row left ``running`` by a stopped server is run
again with the same idempotency key when the server starts.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any, Literal

import apsw

__all__ = [
    "FINAL",
    "PendingRow",
    "State",
    "claim",
    "due_to_expire",
    "get",
    "insert",
    "left_running",
    "open_for_visitor",
    "runs_since",
    "secret",
    "settle",
]

State = Literal["pending", "running", "succeeded", "failed", "declined", "expired", "refused"]
FINAL: frozenset[str] = frozenset({"succeeded", "failed", "declined", "expired", "refused"})

_COLUMNS = (
    "id, site_id, conversation, visitor, user_id, action, version, arguments, fields, digest,"
    " card, source, state, called, result, text, created_ms, expires_ms, settled_ms"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class PendingRow:
    id: str
    site_id: int
    conversation: str
    visitor: str
    user_id: str
    action: str
    version: int
    arguments: dict[str, Any]
    fields: list[str]
    digest: str
    card: dict[str, Any]
    source: str
    state: State
    called: dict[str, Any] | None = None
    result: Any = None
    text: str = ""
    created_ms: int
    expires_ms: int
    settled_ms: int | None = None


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _row(r: tuple[Any, ...]) -> PendingRow:
    (id_, site, conv, visitor, user, action, version, args, fields, digest, card, source,
     state, called, result, text, created, expires, settled) = r  # fmt: skip
    return PendingRow(
        id=id_, site_id=site, conversation=conv, visitor=visitor, user_id=user, action=action,
        version=version, arguments=json.loads(args), fields=json.loads(fields), digest=digest,
        card=json.loads(card), source=source, state=state,
        called=json.loads(called) if called is not None else None,
        result=json.loads(result) if result is not None else None, text=text,
        created_ms=created, expires_ms=expires, settled_ms=settled,
    )  # fmt: skip


def secret(conn: apsw.Connection, site_id: int) -> bytes:
    """The site's token-signing secret, made on first use (every process reads the same)."""
    conn.execute(
        "INSERT INTO action_secrets (site_id, secret) VALUES (?, ?)"
        " ON CONFLICT (site_id) DO NOTHING",
        (site_id, secrets.token_urlsafe(48)),
    )
    row = conn.execute("SELECT secret FROM action_secrets WHERE site_id = ?", (site_id,)).fetchone()
    assert row is not None
    return str(row[0]).encode()


def insert(conn: apsw.Connection, row: PendingRow) -> None:
    conn.execute(
        f"INSERT INTO pending_actions ({_COLUMNS}) VALUES"  # noqa: S608
        " (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            row.id,
            row.site_id,
            row.conversation,
            row.visitor,
            row.user_id,
            row.action,
            row.version,
            _json(row.arguments),
            _json(row.fields),
            row.digest,
            _json(row.card),
            row.source,
            row.state,
            None if row.called is None else _json(row.called),
            None if row.result is None else _json(row.result),
            row.text,
            row.created_ms,
            row.expires_ms,
            row.settled_ms,
        ),
    )


def get(conn: apsw.Connection, site_id: int, pending_id: str) -> PendingRow | None:
    found = conn.execute(
        f"SELECT {_COLUMNS} FROM pending_actions WHERE site_id = ? AND id = ?",  # noqa: S608
        (site_id, pending_id),
    ).fetchone()
    return None if found is None else _row(found)


def claim(
    conn: apsw.Connection, site_id: int, pending_id: str, called: dict[str, Any], now_ms: int
) -> bool:
    """Move a pending, unexpired row to ``running`` with the call's arguments; whether this
    caller won it (exactly one does)."""
    won = conn.execute(
        "UPDATE pending_actions SET state = 'running', called = ?"
        " WHERE site_id = ? AND id = ? AND state = 'pending' AND expires_ms > ? RETURNING id",
        (_json(called), site_id, pending_id, now_ms),
    ).fetchone()
    return won is not None


def settle(
    conn: apsw.Connection,
    site_id: int,
    pending_id: str,
    state: State,
    *,
    text: str,
    now_ms: int,
    result: Any = None,
    from_states: tuple[State, ...] = ("pending", "running"),
) -> bool:
    """Give a row its final state; whether it was still in one of ``from_states``."""
    marks = ", ".join("?" for _ in from_states)
    done = conn.execute(
        "UPDATE pending_actions SET state = ?, text = ?, result = ?, settled_ms = ?"  # noqa: S608
        f" WHERE site_id = ? AND id = ? AND state IN ({marks}) RETURNING id",
        (
            state,
            text,
            None if result is None else _json(result),
            now_ms,
            site_id,
            pending_id,
            *from_states,
        ),
    ).fetchone()
    return done is not None


def runs_since(
    conn: apsw.Connection, site_id: int, action: str, *, user_id: str, visitor: str, since_ms: int
) -> int:
    """Confirmed runs of ``action`` (running or succeeded) by this identity — or, with no
    identity, this visitor — since ``since_ms``."""
    who, value = ("user_id", user_id) if user_id else ("visitor", visitor)
    row = conn.execute(
        "SELECT COUNT(*) FROM pending_actions WHERE site_id = ? AND action = ?"  # noqa: S608
        f" AND {who} = ? AND state IN ('running', 'succeeded') AND created_ms >= ?",
        (site_id, action, value, since_ms),
    ).fetchone()
    assert row is not None
    return int(row[0])


def open_for_visitor(
    conn: apsw.Connection, site_id: int, visitor: str, now_ms: int
) -> list[PendingRow]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM pending_actions"  # noqa: S608
        " WHERE site_id = ? AND visitor = ? AND state = 'pending' AND expires_ms > ?"
        " ORDER BY created_ms",
        (site_id, visitor, now_ms),
    )
    return [_row(r) for r in rows]


def due_to_expire(conn: apsw.Connection, now_ms: int, limit: int) -> list[PendingRow]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM pending_actions"  # noqa: S608
        " WHERE state = 'pending' AND expires_ms <= ? ORDER BY expires_ms LIMIT ?",
        (now_ms, limit),
    )
    return [_row(r) for r in rows]


def left_running(conn: apsw.Connection, limit: int) -> list[PendingRow]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM pending_actions WHERE state = 'running'"  # noqa: S608
        " ORDER BY created_ms LIMIT ?",
        (limit,),
    )
    return [_row(r) for r in rows]
