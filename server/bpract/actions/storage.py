"""Action sets and the audit in SQL: every load is a new version; the highest is current."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal, get_args

import apsw

__all__ = [
    "EVENTS",
    "AuditEvent",
    "Event",
    "StoredActions",
    "audit_events",
    "insert_version",
    "latest",
    "list_versions",
    "next_version",
    "record_event",
]

Event = Literal["proposed", "confirmed", "declined", "expired", "refused", "succeeded", "failed"]
EVENTS: tuple[str, ...] = get_args(Event)


@dataclass(frozen=True, slots=True)
class StoredActions:
    site_id: int
    version: int
    body: dict[str, Any]
    source: str
    author: str
    created_at: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    site_id: int
    conversation: str
    visitor: str
    action: str
    event: Event
    reason: str = ""
    pending: str = ""
    """The pending action's id, when the event is about one."""
    at: str = ""
    """Set by the database when recorded."""
    id: int = 0


_COLUMNS = "site_id, version, body, source, author, created_at"
_AUDIT = "id, site_id, conversation, visitor, action, event, reason, pending, at"


def _row(row: tuple[Any, ...]) -> StoredActions:
    site_id, version, body, source, author, created_at = row
    return StoredActions(site_id, version, json.loads(body), source, author, created_at)


def latest(conn: apsw.Connection, site_id: int) -> StoredActions | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM action_sets WHERE site_id = ? ORDER BY version DESC LIMIT 1",  # noqa: S608
        (site_id,),
    ).fetchone()
    return None if row is None else _row(row)


def list_versions(conn: apsw.Connection, site_id: int) -> list[StoredActions]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM action_sets WHERE site_id = ? ORDER BY version DESC",  # noqa: S608
        (site_id,),
    )
    return [_row(row) for row in rows]


def next_version(conn: apsw.Connection, site_id: int) -> int:
    row = conn.execute(
        "SELECT COALESCE(MAX(version), 0) + 1 FROM action_sets WHERE site_id = ?", (site_id,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def insert_version(
    conn: apsw.Connection, site_id: int, body: dict[str, Any], *, source: str, author: str
) -> int:
    """Store ``body`` as the site's next version (in the caller's write transaction)."""
    version = next_version(conn, site_id)
    conn.execute(
        "INSERT INTO action_sets (site_id, version, body, source, author) VALUES (?, ?, ?, ?, ?)",
        (site_id, version, json.dumps(body, separators=(",", ":")), source, author),
    )
    return version


def record_event(conn: apsw.Connection, event: AuditEvent) -> int:
    """Append one audit entry; its id."""
    row = conn.execute(
        "INSERT INTO action_audit (site_id, conversation, visitor, action, event, reason, pending)"
        " VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            event.site_id,
            event.conversation,
            event.visitor,
            event.action,
            event.event,
            event.reason,
            event.pending,
        ),
    ).fetchone()
    assert row is not None
    return int(row[0])


def audit_events(
    conn: apsw.Connection,
    site_id: int,
    *,
    conversation: str | None = None,
    visitor: str | None = None,
    limit: int = 500,
) -> list[AuditEvent]:
    """A site's audit, oldest first, optionally of one conversation and/or one visitor."""
    where, params = ["site_id = ?"], [site_id]
    for column, value in (("conversation", conversation), ("visitor", visitor)):
        if value is not None:
            where.append(f"{column} = ?")
            params.append(value)  # type: ignore[arg-type]
    rows = conn.execute(
        f"SELECT {_AUDIT} FROM (SELECT {_AUDIT} FROM action_audit WHERE {' AND '.join(where)}"  # noqa: S608
        " ORDER BY id DESC LIMIT ?) ORDER BY id",
        (*params, limit),
    )
    return [
        AuditEvent(
            id=i,
            site_id=s,
            conversation=c,
            visitor=v,
            action=a,
            event=e,
            reason=r,
            pending=p,
            at=at,
        )
        for i, s, c, v, a, e, r, p, at in rows
    ]
