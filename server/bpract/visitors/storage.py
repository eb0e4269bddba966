"""SQL of the visitor socket: opening a connection, visitors, engine states."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NamedTuple

import apsw

from bpract.sites import Site, SiteNotFoundError, get_site_by_key, origin_allowed, verify_identity
from bpract.store import transaction
from bpract.visitors.keys import new_secret, new_visitor_id, visitor_key, visitor_key_matches
from bpract.wire.codes import CloseCode
from bpract.wire.frames import Hello

__all__ = [
    "Opened",
    "RecordedFrame",
    "Refused",
    "apply_identity",
    "latest_signal_ms",
    "load_engine_state",
    "open_visitor",
    "recent_signals",
    "recorded_frames",
    "recorded_visitors",
    "save_engine_state",
    "stored_seq",
    "visitor_seen",
    "visitor_signals",
    "visitor_traits",
]


_COUNT_TOP = (
    "SELECT count(*), max(seq) FROM frames WHERE site_id = ? AND visitor = ? AND stream = ?"
)
# The end of the run of seqs that starts at 1: the smallest n (0 included) whose n+1 is missing.
_FIRST_GAP = (
    "SELECT min(seq) FROM (SELECT 0 AS seq UNION ALL SELECT seq FROM frames"
    " WHERE site_id = ? AND visitor = ? AND stream = ?) f"
    " WHERE NOT EXISTS (SELECT 1 FROM frames g WHERE g.site_id = ? AND g.visitor = ?"
    " AND g.stream = ? AND g.seq = f.seq + 1)"
)


@dataclass(frozen=True, slots=True)
class Opened:
    site: Site
    visitor: str
    """The hello's visitor id, or a fresh one when the hello could not prove it (no key)."""
    key: str
    """The visitor's key, sent in ``welcome``."""
    stored_seq: int
    identity_rejected: bool


@dataclass(frozen=True, slots=True)
class Refused:
    code: CloseCode
    reason: str


def stored_seq(conn: apsw.Connection, site_id: int, visitor: str, stream: str) -> int:
    """Highest seq ``n`` such that every seq 1..n of the stream is stored.

    A refused (rate-limited) frame leaves a gap the client must fill, so the
    contiguous prefix — not the maximum — is what the client may forget.
    """
    key = (site_id, visitor, stream)
    row = conn.execute(_COUNT_TOP, key).fetchone()
    count, top = (int(row[0]), int(row[1] or 0)) if row else (0, 0)
    if count == top:  # no gap: the common case, answered from the index alone
        return top
    gap = conn.execute(_FIRST_GAP, key + key).fetchone()
    return int(gap[0]) if gap and gap[0] is not None else 0


def _upsert_visitor(
    conn: apsw.Connection,
    site_id: int,
    visitor: str,
    now_ms: int,
    identity: tuple[str, str | None] | None,
) -> None:
    conn.execute(
        "INSERT INTO visitors (site_id, id, first_seen_ms, last_seen_ms) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (site_id, id) DO UPDATE SET last_seen_ms = excluded.last_seen_ms",
        (site_id, visitor, now_ms, now_ms),
    )
    if identity is not None:
        apply_identity(conn, site_id, visitor, identity[0], identity[1])


def apply_identity(
    conn: apsw.Connection, site_id: int, visitor: str, user_id: str, traits_json: str | None
) -> None:
    """Record a verified user id (and traits, if given) on the visitor."""
    conn.execute(
        "UPDATE visitors SET user_id = ?, traits = coalesce(?, traits)"
        " WHERE site_id = ? AND id = ?",
        (user_id, traits_json, site_id, visitor),
    )


def _key_secret(conn: apsw.Connection, site_id: int) -> str:
    """The site's visitor-key secret, made on first use (every worker reads the same one)."""
    select = "SELECT secret FROM visitor_key_secrets WHERE site_id = ?"
    row = conn.execute(select, (site_id,)).fetchone()
    if row is None:
        conn.execute(
            "INSERT INTO visitor_key_secrets (site_id, secret) VALUES (?, ?)"
            " ON CONFLICT (site_id) DO NOTHING",
            (site_id, new_secret()),
        )
        row = conn.execute(select, (site_id,)).fetchone()
    assert row is not None  # inserted just now, or by another worker first
    return str(row[0])


def _claim_visitor(
    conn: apsw.Connection, site_id: int, hello: Hello, now_ms: int, grace_ms: int
) -> tuple[str, str]:
    """``(visitor id, key)`` this connection is: the hello's if its key proves it (or the id
    is new, or first seen under ``grace_ms`` ago), else a fresh visitor id."""
    secret = _key_secret(conn, site_id)
    visitor = hello.visitor
    if not visitor_key_matches(secret, site_id, visitor, hello.key):
        row = conn.execute(
            "SELECT first_seen_ms FROM visitors WHERE site_id = ? AND id = ?", (site_id, visitor)
        ).fetchone()
        if row is not None and now_ms - int(row[0]) >= grace_ms:
            visitor = new_visitor_id()
    return visitor, visitor_key(secret, site_id, visitor)


def open_visitor(
    conn: apsw.Connection, hello: Hello, origin: str | None, now_ms: int, *, key_grace_ms: int
) -> Opened | Refused:
    """Check site, origin, visitor key and identity of ``hello``; record the visitor; find
    its stored seq."""
    try:
        site = get_site_by_key(conn, hello.site)
    except SiteNotFoundError:
        return Refused(CloseCode.unknown_site, "unknown_site")
    if not origin_allowed(origin, site.allowed_origins):
        return Refused(CloseCode.forbidden_origin, "forbidden_origin")
    identity, rejected = None, False
    if hello.identity is not None:
        ident = hello.identity
        if verify_identity(site.identity_secret, ident.user_id, ident.user_hash):
            traits = json.dumps(ident.traits) if ident.traits is not None else None
            identity = (ident.user_id, traits)
        else:
            rejected = True
    with transaction(conn):
        visitor, key = _claim_visitor(conn, site.id, hello, now_ms, key_grace_ms)
        _upsert_visitor(conn, site.id, visitor, now_ms, identity)
    seq = stored_seq(conn, site.id, visitor, hello.stream)
    return Opened(site, visitor, key, seq, rejected)


def load_engine_state(conn: apsw.Connection, site_id: int, visitor: str) -> dict[str, Any] | None:
    row = conn.execute(
        "SELECT state FROM engine_states WHERE site_id = ? AND visitor = ?", (site_id, visitor)
    ).fetchone()
    return dict(json.loads(row[0])) if row else None


def save_engine_state(
    conn: apsw.Connection, site_id: int, visitor: str, state: dict[str, Any], now_ms: int
) -> None:
    conn.execute(
        "INSERT INTO engine_states (site_id, visitor, state, updated_ms) VALUES (?, ?, ?, ?)"
        " ON CONFLICT (site_id, visitor) DO UPDATE SET state = excluded.state,"
        " updated_ms = excluded.updated_ms",
        (site_id, visitor, json.dumps(state), now_ms),
    )


def recent_signals(
    conn: apsw.Connection, site_id: int, visitor: str, limit: int
) -> list[tuple[str, str]]:
    """``(name, data JSON)`` of the visitor's last ``limit`` signals, oldest first."""
    rows = conn.execute(
        "SELECT name, data FROM signals WHERE site_id = ? AND visitor = ?"
        " ORDER BY at_ms DESC, id DESC LIMIT ?",
        (site_id, visitor, limit),
    ).fetchall()
    return [(str(name), str(data)) for name, data in reversed(rows)]


def visitor_traits(
    conn: apsw.Connection, site_id: int, visitor: str
) -> tuple[str | None, str | None] | None:
    """``(user_id, traits JSON)`` of a known visitor, None for one never seen."""
    row = conn.execute(
        "SELECT user_id, traits FROM visitors WHERE site_id = ? AND id = ?", (site_id, visitor)
    ).fetchone()
    if row is None:
        return None
    user_id, traits = row
    return (None if user_id is None else str(user_id), None if traits is None else str(traits))


_PAGE_VIEWS = (
    "SELECT name, at_ms, data FROM signals WHERE site_id = ? AND visitor = ?"
    " AND name = 'page_view' ORDER BY at_ms DESC, id DESC LIMIT ?"
)
_OTHER_SIGNALS = (
    "SELECT name, at_ms, data FROM signals WHERE site_id = ? AND visitor = ?"
    " AND name <> 'page_view' ORDER BY at_ms DESC, id DESC LIMIT ?"
)


def visitor_signals(
    conn: apsw.Connection, site_id: int, visitor: str, limit: int, *, page_views: bool
) -> list[tuple[str, int, str]]:
    """``(name, at_ms, data JSON)`` of the visitor's last ``limit`` page views (or, with
    ``page_views=False``, of their other signals), newest first."""
    query = _PAGE_VIEWS if page_views else _OTHER_SIGNALS
    rows = conn.execute(query, (site_id, visitor, limit)).fetchall()
    return [(str(name), int(str(at_ms)), str(data)) for name, at_ms, data in rows]


def visitor_seen(conn: apsw.Connection, site_id: int, visitor: str) -> tuple[int, int] | None:
    """``(first_seen_ms, last_seen_ms)`` of a known visitor (server clock), None if never seen."""
    row = conn.execute(
        "SELECT first_seen_ms, last_seen_ms FROM visitors WHERE site_id = ? AND id = ?",
        (site_id, visitor),
    ).fetchone()
    return None if row is None else (int(row[0]), int(row[1]))


def latest_signal_ms(conn: apsw.Connection, site_id: int, name: str) -> dict[str, int]:
    """The time (browser clock) of each visitor's latest signal called ``name``."""
    rows = conn.execute(
        "SELECT visitor, MAX(at_ms) FROM signals WHERE site_id = ? AND name = ? GROUP BY visitor",
        (site_id, name),
    )
    return {str(visitor): int(at_ms) for visitor, at_ms in rows}


class RecordedFrame(NamedTuple):
    """One stored client frame, as the ``frames`` inbox holds it."""

    stream: str
    seq: int
    t: str
    at_ms: int
    received_ms: int
    body: str


def recorded_visitors(
    conn: apsw.Connection, site_id: int, since_ms: int, until_ms: int
) -> list[str]:
    """The visitors of the site with a frame received in ``[since_ms, until_ms]``."""
    rows = conn.execute(
        "SELECT DISTINCT visitor FROM frames WHERE site_id = ? AND received_ms >= ?"
        " AND received_ms <= ? ORDER BY visitor",
        (site_id, since_ms, until_ms),
    )
    return [str(visitor) for (visitor,) in rows]


def recorded_frames(
    conn: apsw.Connection, site_id: int, visitor: str, since_ms: int, until_ms: int
) -> list[RecordedFrame]:
    """The visitor's frames received in ``[since_ms, until_ms]``, per stream, in seq order."""
    rows = conn.execute(
        "SELECT stream, seq, t, at_ms, received_ms, body FROM frames WHERE site_id = ?"
        " AND visitor = ? AND received_ms >= ? AND received_ms <= ? ORDER BY stream, seq",
        (site_id, visitor, since_ms, until_ms),
    )
    return [
        RecordedFrame(str(stream), int(seq), str(t), int(at), int(received), str(body))
        for stream, seq, t, at, received, body in rows
    ]
