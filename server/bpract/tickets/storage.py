"""Tickets in SQL: a site's ticket settings, the tickets, and the outbox of their deliveries.

Portable SQL only (``ON CONFLICT … DO``, ``UPDATE … RETURNING``): a delivery is claimed
by moving ``claimed_until_ms`` forward, so two workers never send the same ticket at once,
and a claim a stopped process left lapses by itself.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import apsw

from bpract.store.dialect import id_list, id_list_value

__all__ = [
    "Claimed",
    "NewTicket",
    "State",
    "StoredSettings",
    "TicketRow",
    "claim_due",
    "delivered",
    "insert_ticket",
    "load_settings",
    "new_id",
    "postpone",
    "recent_by_visitor",
    "retry_later",
    "save_settings",
    "tickets_of",
]

State = Literal["pending", "delivered", "failed"]


def new_id(prefix: str = "t_") -> str:
    """``prefix`` + 22 url-safe random characters."""
    return prefix + secrets.token_urlsafe(16)[:22]


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredSettings:
    webhook_url: str = ""
    secret: str = ""
    hours: dict[str, Any] | None = None


def load_settings(conn: apsw.Connection, site_id: int) -> StoredSettings:
    row = conn.execute(
        "SELECT webhook_url, secret, hours FROM ticket_settings WHERE site_id = ?", (site_id,)
    ).fetchone()
    if row is None:
        return StoredSettings()
    url, secret, hours = row
    return StoredSettings(
        webhook_url=url, secret=secret, hours=None if hours is None else json.loads(hours)
    )


def save_settings(
    conn: apsw.Connection, site_id: int, settings: StoredSettings, *, at_ms: int
) -> None:
    hours = None if settings.hours is None else json.dumps(settings.hours, separators=(",", ":"))
    conn.execute(
        "INSERT INTO ticket_settings (site_id, webhook_url, secret, hours, updated_ms)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (site_id) DO UPDATE SET"
        " webhook_url = excluded.webhook_url, secret = excluded.secret,"
        " hours = excluded.hours, updated_ms = excluded.updated_ms",
        (site_id, settings.webhook_url, settings.secret, hours, at_ms),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class NewTicket:
    site_id: int
    visitor: str
    stream: str
    seq: int
    email: str
    question: str
    lang: str
    created_ms: int


def insert_ticket(conn: apsw.Connection, ticket: NewTicket) -> str:
    """Store the ticket and its outbox row (in the caller's transaction); its id — the one
    stored before when the same frame (site, visitor, stream, seq) comes again."""
    t = ticket
    row = conn.execute(
        "INSERT INTO tickets (id, site_id, visitor, stream, seq, email, question, lang,"
        " created_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT (site_id, visitor, stream, seq) DO NOTHING RETURNING id",
        (new_id(), t.site_id, t.visitor, t.stream, t.seq, t.email, t.question, t.lang,
         t.created_ms),
    ).fetchone()  # fmt: skip
    if row is None:
        found = conn.execute(
            "SELECT id FROM tickets WHERE site_id = ? AND visitor = ? AND stream = ? AND seq = ?",
            (t.site_id, t.visitor, t.stream, t.seq),
        ).fetchone()
        assert found is not None
        return str(found[0])
    ticket_id = str(row[0])
    conn.execute(
        "INSERT INTO ticket_outbox (ticket_id, due_ms) VALUES (?, ?)", (ticket_id, t.created_ms)
    )
    return ticket_id


def recent_by_visitor(conn: apsw.Connection, site_id: int, visitor: str, since_ms: int) -> int:
    """How many tickets the visitor left since ``since_ms``."""
    row = conn.execute(
        "SELECT COUNT(*) FROM tickets WHERE site_id = ? AND visitor = ? AND created_ms >= ?",
        (site_id, visitor, since_ms),
    ).fetchone()
    assert row is not None
    return int(row[0])


@dataclass(frozen=True, slots=True, kw_only=True)
class Claimed:
    """A delivery claimed for one attempt: the ticket and where it goes."""

    id: str
    site_id: int
    site_key: str
    visitor: str
    email: str
    question: str
    lang: str
    created_ms: int
    attempts: int
    """Including this one."""
    webhook_url: str
    secret: str


def claim_due(conn: apsw.Connection, now_ms: int, claim_ms: int, limit: int) -> list[Claimed]:
    """Claim up to ``limit`` pending deliveries due by ``now_ms`` and not claimed, until
    ``now_ms + claim_ms``; each attempt is counted as it is claimed."""
    rows = conn.execute(
        "UPDATE ticket_outbox SET claimed_until_ms = ?, attempts = attempts + 1"
        " WHERE ticket_id IN (SELECT ticket_id FROM ticket_outbox WHERE state = 'pending'"
        " AND due_ms <= ? AND claimed_until_ms <= ? ORDER BY due_ms LIMIT ?)"
        " RETURNING ticket_id, attempts",
        (now_ms + claim_ms, now_ms, now_ms, limit),
    ).fetchall()
    attempts = {str(ticket_id): n for ticket_id, n in rows if isinstance(n, int)}
    if not attempts:
        return []
    claimed = []
    for ticket_id in sorted(attempts):
        row = conn.execute(
            "SELECT t.id, t.site_id, s.public_key, t.visitor, t.email, t.question, t.lang,"
            " t.created_ms, COALESCE(k.webhook_url, ''), COALESCE(k.secret, '')"
            " FROM tickets t JOIN sites s ON s.id = t.site_id"
            " LEFT JOIN ticket_settings k ON k.site_id = t.site_id WHERE t.id = ?",
            (ticket_id,),
        ).fetchone()
        if row is not None:
            i, s, k, v, e, q, lang, c, url, secret = row
            claimed.append(
                Claimed(id=i, site_id=s, site_key=k, visitor=v, email=e, question=q, lang=lang,
                        created_ms=c, attempts=attempts[i], webhook_url=url, secret=secret)
            )  # fmt: skip
    return sorted(claimed, key=lambda c: c.created_ms)


def delivered(conn: apsw.Connection, ticket_id: str, at_ms: int) -> None:
    conn.execute(
        "UPDATE ticket_outbox SET state = 'delivered', delivered_ms = ?, claimed_until_ms = 0,"
        " last_error = '' WHERE ticket_id = ?",
        (at_ms, ticket_id),
    )


def retry_later(conn: apsw.Connection, ticket_id: str, *, due_ms: int | None, error: str) -> None:
    """A failed attempt: tried again at ``due_ms``, or ``failed`` for good when None."""
    if due_ms is None:
        conn.execute(
            "UPDATE ticket_outbox SET state = 'failed', claimed_until_ms = 0, last_error = ?"
            " WHERE ticket_id = ?",
            (error, ticket_id),
        )
        return
    conn.execute(
        "UPDATE ticket_outbox SET due_ms = ?, claimed_until_ms = 0, last_error = ?"
        " WHERE ticket_id = ?",
        (due_ms, error, ticket_id),
    )


def postpone(conn: apsw.Connection, ticket_id: str, *, due_ms: int, error: str) -> None:
    """Not an attempt (the site has no webhook yet): give back the attempt the claim counted."""
    conn.execute(
        "UPDATE ticket_outbox SET due_ms = ?, claimed_until_ms = 0, last_error = ?,"
        " attempts = attempts - 1 WHERE ticket_id = ?",
        (due_ms, error, ticket_id),
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketRow:
    """A ticket as listed (the inbox, ``bpract tickets list``), with its delivery's state."""

    id: str
    site_id: int
    visitor: str
    email: str
    question: str
    lang: str
    created_ms: int
    state: State
    attempts: int
    delivered_ms: int | None
    last_error: str


def tickets_of(conn: apsw.Connection, site_ids: Iterable[int], limit: int) -> list[TicketRow]:
    """The newest ``limit`` tickets of ``site_ids``, newest first, with their delivery state."""
    sql = (
        "SELECT t.id, t.site_id, t.visitor, t.email, t.question, t.lang, t.created_ms,"  # noqa: S608 - id_list() is a placeholder
        " o.state, o.attempts, o.delivered_ms, o.last_error"
        " FROM tickets t JOIN ticket_outbox o ON o.ticket_id = t.id"
        f" WHERE t.site_id IN ({id_list()})"
        " ORDER BY t.created_ms DESC, t.id DESC LIMIT ?"
    )
    rows = conn.execute(sql, (id_list_value(site_ids), limit))
    return [
        TicketRow(id=i, site_id=s, visitor=v, email=e, question=q, lang=lang, created_ms=c,
                  state=st, attempts=n, delivered_ms=d, last_error=err)
        for i, s, v, e, q, lang, c, st, n, d, err in rows
    ]  # fmt: skip
