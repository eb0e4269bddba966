"""The fire ledger: each fire is stored with its outcome; a sent one gets an outreach row.

A fire that passes policy is stored ``pending`` in the same transaction as
the policy check, so it already counts against caps and budgets while the
decider thinks.  Whoever decides it first claims it (:func:`claim_fire`, one
``UPDATE … WHERE status = 'pending' … RETURNING``), so two processes never
both decide one fire; the claim lapses at ``claim_expires_ms``, so a process
that died mid-decision does not keep it.  Only the claimant settles it as
``sent`` or ``declined`` (:func:`settle`); a fire nobody decided within its
deadline is closed as ``expired`` (:func:`expire_undecided`).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

import apsw

from bpract.store import Migrations, connect, migrate
from bpract.triggers.decider import Decision

__all__ = [
    "ClaimedFire",
    "NewFire",
    "RecordedFire",
    "SentOutreach",
    "StoredFire",
    "VisitorFire",
    "claim_fire",
    "expire_undecided",
    "fire_on_stream",
    "new_outreach_id",
    "record_fire",
    "rule_messages",
    "sent_outreach",
    "settle",
    "undecided_fires",
    "visitor_fire_log",
    "visitor_fires",
    "visitor_messages",
    "what_if_ledger",
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
    #: the frame's stream and seq; None for a fire of the server-side engine
    stream: str | None = None
    seq: int | None = None


@dataclass(frozen=True, slots=True)
class StoredFire:
    """A stored fire's id and its status (``pending`` until decided)."""

    id: int
    status: str
    reason: str


_INSERT_FIRE = (
    "INSERT INTO fires (site_id, visitor, session, rule_id, rule_version, at_ms, received_ms,"
    " status, reason, context, stream, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT (site_id, visitor, stream, seq) DO NOTHING RETURNING id"
)


def record_fire(conn: apsw.Connection, fire: NewFire, status: str, reason: str) -> StoredFire:
    """Store ``fire``; the fire already stored for its stream and seq if there is one."""
    rows = conn.execute(
        _INSERT_FIRE,
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
            fire.stream,
            fire.seq,
        ),
    ).fetchall()
    if rows:
        return StoredFire(int(str(rows[0][0])), status, reason)
    assert fire.stream is not None and fire.seq is not None  # only a keyed fire can conflict
    known = fire_on_stream(conn, fire.site_id, fire.visitor, fire.stream, fire.seq)
    assert known is not None
    return known


def fire_on_stream(
    conn: apsw.Connection, site_id: int, visitor: str, stream: str, seq: int
) -> StoredFire | None:
    """The fire a frame (``stream``, ``seq``) of this visitor made, if it was stored."""
    row = conn.execute(
        "SELECT id, status, reason FROM fires WHERE site_id = ? AND visitor = ? AND stream = ?"
        " AND seq = ?",
        (site_id, visitor, stream, seq),
    ).fetchone()
    return None if row is None else StoredFire(int(row[0]), str(row[1]), str(row[2]))


@dataclass(frozen=True, slots=True, kw_only=True)
class ClaimedFire:
    """A pending fire claimed for a decision: what the decider needs, and the claim."""

    id: int
    site_id: int
    visitor: str
    rule_id: str
    rule_version: int
    context: dict[str, Any]
    claim: str


def claim_fire(
    conn: apsw.Connection, fire_id: int, claim: str, *, now_ms: int, until_ms: int, since_ms: int
) -> ClaimedFire | None:
    """Claim a pending fire received at or after ``since_ms`` whose earlier claim (if any)
    has lapsed; None when it is decided, claimed by someone else, or too old."""
    row = conn.execute(
        "UPDATE fires SET claim = ?, claim_expires_ms = ? WHERE id = ? AND status = 'pending'"
        " AND received_ms >= ? AND (claim IS NULL OR claim_expires_ms <= ?)"
        " RETURNING site_id, visitor, rule_id, rule_version, context",
        (claim, until_ms, fire_id, since_ms, now_ms),
    ).fetchone()
    if row is None:
        return None
    site_id, visitor, rule_id, rule_version, context = row
    return ClaimedFire(
        id=fire_id,
        site_id=int(site_id),
        visitor=str(visitor),
        rule_id=str(rule_id),
        rule_version=int(rule_version),
        context=json.loads(str(context)),
        claim=claim,
    )


def undecided_fires(
    conn: apsw.Connection, site_id: int, visitor: str, since_ms: int
) -> list[tuple[int, int | None]]:
    """This visitor's pending fires received at or after ``since_ms``: each id, and when its
    current claim lapses (None when unclaimed)."""
    rows = conn.execute(
        "SELECT id, claim_expires_ms FROM fires WHERE site_id = ? AND visitor = ?"
        " AND status = 'pending' AND received_ms >= ? ORDER BY id",
        (site_id, visitor, since_ms),
    )
    return [
        (int(str(fire_id)), None if until is None else int(str(until))) for fire_id, until in rows
    ]


def expire_undecided(conn: apsw.Connection, *, before_ms: int, now_ms: int, reason: str) -> int:
    """Close as ``expired`` every pending fire received before ``before_ms`` that nobody is
    deciding now; how many."""
    rows = conn.execute(
        "UPDATE fires SET status = 'expired', reason = ?, claim = NULL"
        " WHERE status = 'pending' AND received_ms < ?"
        " AND (claim IS NULL OR claim_expires_ms <= ?) RETURNING id",
        (reason, before_ms, now_ms),
    ).fetchall()
    return len(rows)


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


_SETTLE = (
    "UPDATE fires SET status = ?, reason = ?, outreach_id = ?, claim = NULL"
    " WHERE id = ? AND status = 'pending' AND claim = ? RETURNING id"
)


def settle(
    conn: apsw.Connection, fire: ClaimedFire, decision: Decision, now_ms: int
) -> tuple[bool, str | None]:
    """Mark a fire claimed by ``fire.claim`` ``sent`` (with a new outreach row) or
    ``declined``: whether the claim still held, and the outreach id when sent."""
    if not decision.engage:
        settled = conn.execute(_SETTLE, ("declined", decision.reason, None, fire.id, fire.claim))
        return settled.fetchone() is not None, None
    outreach_id = new_outreach_id()
    settled = conn.execute(_SETTLE, ("sent", decision.reason, outreach_id, fire.id, fire.claim))
    if settled.fetchone() is None:
        return False, None
    conn.execute(
        "INSERT INTO outreach (id, site_id, visitor, rule_id, fire_id, message, cta,"
        " decided_by, reason, sent_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            outreach_id,
            fire.site_id,
            fire.visitor,
            fire.rule_id,
            fire.id,
            decision.message,
            _cta_json(decision),
            decision.decided_by,
            decision.reason,
            now_ms,
        ),
    )
    return True, outreach_id


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitorFire:
    """A fire of one visitor as it stands: its outcome, and the message when one was sent."""

    rule_id: str
    rule_version: int
    status: str
    reason: str
    received_ms: int
    message: str | None


def visitor_fires(
    conn: apsw.Connection, site_id: int, visitor: str, limit: int
) -> list[VisitorFire]:
    """The visitor's last ``limit`` fires on this site, newest first."""
    rows = conn.execute(
        "SELECT f.rule_id, f.rule_version, f.status, f.reason, f.received_ms, o.message"
        " FROM fires f LEFT JOIN outreach o ON o.id = f.outreach_id AND o.site_id = f.site_id"
        " WHERE f.site_id = ? AND f.visitor = ? ORDER BY f.received_ms DESC, f.id DESC LIMIT ?",
        (site_id, visitor, limit),
    )
    return [
        VisitorFire(
            rule_id=str(rule_id),
            rule_version=int(version),
            status=str(status),
            reason=str(reason),
            received_ms=int(received),
            message=None if msg is None else str(msg),
        )
        for rule_id, version, status, reason, received, msg in rows
    ]


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedFire:
    """A stored fire of one visitor, as policy counts it and a backtest compares it."""

    rule_id: str
    status: str
    at_ms: int
    received_ms: int
    page: str
    """The page the engine fired on (``context.page``: path and query)."""


def visitor_fire_log(
    conn: apsw.Connection, site_id: int, visitor: str, since_ms: int
) -> list[RecordedFire]:
    """The visitor's fires received at or after ``since_ms``, oldest first."""
    rows = conn.execute(
        "SELECT rule_id, status, at_ms, received_ms, context FROM fires WHERE site_id = ?"
        " AND visitor = ? AND received_ms >= ? ORDER BY received_ms, id",
        (site_id, visitor, since_ms),
    )
    out = []
    for rule_id, status, at_ms, received_ms, context in rows:
        page = json.loads(str(context)).get("page")
        out.append(
            RecordedFire(
                rule_id=str(rule_id), status=str(status), at_ms=int(at_ms),
                received_ms=int(received_ms), page=page if isinstance(page, str) else "",
            )
        )  # fmt: skip
    return out


def what_if_ledger() -> apsw.Connection:
    """An empty fire ledger in memory, for policy checks on fires that never happened.

    It has the schema of ``fires`` (the triggers migrations) and no ``sites`` table, so
    foreign keys are off; nothing written to it reaches the database.
    """
    conn = connect(":memory:")
    conn.execute("PRAGMA foreign_keys=OFF")
    migrate(conn, [Migrations(feature="triggers", package="bpract.triggers")])
    return conn
