"""The fire ledger: each fire is stored with its outcome; a sent one gets an outreach row.

A fire that passes policy is stored ``pending`` in the same transaction as
the policy check, so it already counts against caps and budgets while the
decider thinks; it is then settled as ``sent`` or ``declined``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import apsw

from bpract.store import insert_id
from bpract.triggers.decider import Decision

__all__ = [
    "NewFire",
    "SentOutreach",
    "new_outreach_id",
    "record_fire",
    "rule_messages",
    "sent_outreach",
    "settle",
    "visitor_messages",
]

#: Fires that count as messages: sent, or reserved by a fire still being decided.
_COUNTED = "(status = 'sent' OR (status = 'pending' AND received_ms >= ?))"
_RULE_MESSAGES = (
    "SELECT COUNT(*), MAX(received_ms) FROM fires WHERE site_id = ? AND rule_id = ?"  # noqa: S608
    f" AND visitor = ? AND received_ms > ? AND {_COUNTED}"
)
_VISITOR_MESSAGES = (
    "SELECT COUNT(*) FROM fires WHERE site_id = ? AND visitor = ?"  # noqa: S608
    f" AND received_ms > ? AND {_COUNTED}"
)


def rule_messages(
    conn: apsw.Connection,
    site_id: int,
    rule_id: str,
    visitor: str,
    *,
    since_ms: int,
    pending_since_ms: int,
) -> tuple[int, int | None]:
    """Messages of one rule to one visitor received after ``since_ms``: count and latest time.

    Pending fires count when received at or after ``pending_since_ms``."""
    row = conn.execute(
        _RULE_MESSAGES, (site_id, rule_id, visitor, since_ms, pending_since_ms)
    ).fetchone()
    assert row is not None  # an aggregate always yields a row
    return int(str(row[0])), None if row[1] is None else int(str(row[1]))


def visitor_messages(
    conn: apsw.Connection, site_id: int, visitor: str, since_ms: int, pending_since_ms: int
) -> int:
    """Messages of every rule to one visitor received after ``since_ms`` (pending as above)."""
    row = conn.execute(_VISITOR_MESSAGES, (site_id, visitor, since_ms, pending_since_ms)).fetchone()
    assert row is not None
    return int(str(row[0]))


def new_outreach_id() -> str:
    return "o_" + secrets.token_urlsafe(16)


@dataclass(frozen=True, slots=True, kw_only=True)
class NewFire:
    site_id: int
    visitor: str
    session: str | None
    rule_id: str
    rule_version: int
    at_ms: int
    received_ms: int
    context: dict[str, Any]


def record_fire(conn: apsw.Connection, fire: NewFire, status: str, reason: str) -> int:
    return insert_id(
        conn,
        "INSERT INTO fires (site_id, visitor, session, rule_id, rule_version, at_ms,"
        " received_ms, status, reason, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " RETURNING id",
        (
            fire.site_id,
            fire.visitor,
            fire.session,
            fire.rule_id,
            fire.rule_version,
            fire.at_ms,
            fire.received_ms,
            status,
            reason,
            json.dumps(fire.context, separators=(",", ":")),
        ),
    )


@dataclass(frozen=True, slots=True)
class SentOutreach:
    id: str
    rule_id: str
    message: str
    sent_ms: int


def sent_outreach(
    conn: apsw.Connection, site_id: int, visitor: str, outreach_id: str
) -> SentOutreach | None:
    """An outreach sent to this visitor on this site (None for anyone else's)."""
    row = conn.execute(
        "SELECT id, rule_id, message, sent_ms FROM outreach WHERE id = ? AND site_id = ?"
        " AND visitor = ?",
        (outreach_id, site_id, visitor),
    ).fetchone()
    if row is None:
        return None
    sent_id, rule_id, message, sent_ms = row
    return SentOutreach(str(sent_id), str(rule_id), str(message), int(sent_ms))


def _cta_json(decision: Decision) -> str | None:
    if decision.cta is None:
        return None
    return json.dumps({"label": decision.cta.label, "url": decision.cta.url})


def settle(
    conn: apsw.Connection, fire_id: int, fire: NewFire, decision: Decision, now_ms: int
) -> str | None:
    """Mark a pending fire ``sent`` (returning the new outreach id) or ``declined``."""
    if not decision.engage:
        conn.execute(
            "UPDATE fires SET status = 'declined', reason = ? WHERE id = ?",
            (decision.reason, fire_id),
        )
        return None
    outreach_id = new_outreach_id()
    conn.execute(
        "INSERT INTO outreach (id, site_id, visitor, rule_id, fire_id, message, cta,"
        " decided_by, reason, sent_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            outreach_id,
            fire.site_id,
            fire.visitor,
            fire.rule_id,
            fire_id,
            decision.message,
            _cta_json(decision),
            decision.decided_by,
            decision.reason,
            now_ms,
        ),
    )
    conn.execute(
        "UPDATE fires SET status = 'sent', reason = ?, outreach_id = ? WHERE id = ?",
        (decision.reason, outreach_id, fire_id),
    )
    return outreach_id
