"""SQL of the admin API's tokens: stored as sha256 hashes, never the token itself."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import apsw

from bpract.store import insert_id

__all__ = [
    "ActiveToken",
    "TokenRecord",
    "insert_token",
    "list_tokens",
    "revoke_token",
    "use_token",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class ActiveToken:
    """What the guard needs of a token that is neither expired nor revoked."""

    id: int
    name: str
    org_id: int
    role: str
    sites: frozenset[int] | None
    """The sites a limited token may reach; None: every site of its organisation."""


@dataclass(frozen=True, slots=True, kw_only=True)
class TokenRecord:
    """A token as listed: everything but its hash."""

    id: int
    name: str
    org: str
    role: str
    sites: list[str]
    """Public keys of the sites it is limited to; empty: every site of its organisation."""
    site_limited: bool
    created_at: str
    last_used_at: str | None
    expires_at: str | None
    revoked_at: str | None


def insert_token(
    conn: apsw.Connection,
    *,
    name: str,
    token_hash: str,
    created_at: str,
    org_id: int,
    role: str,
    expires_at: str | None,
    site_ids: Sequence[int] | None,
) -> int:
    """Store a token's hash and scope; its id."""
    token_id = insert_id(
        conn,
        "INSERT INTO admin_tokens (name, token_hash, created_at, org_id, role, expires_at,"
        " site_limited) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (name, token_hash, created_at, org_id, role, expires_at, int(site_ids is not None)),
    )
    for site_id in sorted(set(site_ids or ())):
        conn.execute(
            "INSERT INTO admin_token_sites (token_id, site_id) VALUES (?, ?)", (token_id, site_id)
        )
    return token_id


def use_token(conn: apsw.Connection, token_hash: str, at: str) -> ActiveToken | None:
    """The live token with this hash, its use recorded; None if unknown, expired or revoked."""
    rows = conn.execute(
        "UPDATE admin_tokens SET last_used_at = ?"
        " WHERE token_hash = ? AND revoked_at IS NULL AND org_id IS NOT NULL"
        " AND (expires_at IS NULL OR expires_at > ?)"
        " RETURNING id, name, org_id, role, site_limited",
        (at, token_hash, at),
    ).fetchall()
    if not rows:
        return None
    token_id, name, org_id, role, limited = rows[0]
    sites = None
    if limited:
        sql = "SELECT site_id FROM admin_token_sites WHERE token_id = ?"
        sites = frozenset(int(str(r[0])) for r in conn.execute(sql, (token_id,)))
    return ActiveToken(
        id=int(str(token_id)), name=str(name), org_id=int(str(org_id)), role=str(role), sites=sites
    )


def list_tokens(conn: apsw.Connection) -> list[TokenRecord]:
    """Every token, oldest first, without its hash."""
    limited: dict[int, list[str]] = {}
    for token_id, key in conn.execute(
        "SELECT ts.token_id, s.public_key FROM admin_token_sites ts"
        " JOIN sites s ON s.id = ts.site_id ORDER BY s.id"
    ):
        limited.setdefault(int(token_id), []).append(str(key))
    rows = conn.execute(
        "SELECT t.id, t.name, COALESCE(o.name, ''), t.role, t.site_limited, t.created_at,"
        " t.last_used_at, t.expires_at, t.revoked_at"
        " FROM admin_tokens t LEFT JOIN organisations o ON o.id = t.org_id ORDER BY t.id"
    )
    return [
        TokenRecord(
            id=int(id_),
            name=str(name),
            org=str(org),
            role=str(role),
            sites=limited.get(int(id_), []),
            site_limited=bool(site_limited),
            created_at=str(created),
            last_used_at=None if used is None else str(used),
            expires_at=None if expires is None else str(expires),
            revoked_at=None if revoked is None else str(revoked),
        )
        for id_, name, org, role, site_limited, created, used, expires, revoked in rows
    ]


def revoke_token(conn: apsw.Connection, token_id: int, at: str) -> bool:
    """Revoke token ``token_id`` (kept, listed as revoked); False if there is no such token."""
    found = conn.execute("SELECT revoked_at FROM admin_tokens WHERE id = ?", (token_id,))
    row = found.fetchone()
    if row is None:
        return False
    if row[0] is None:
        conn.execute("UPDATE admin_tokens SET revoked_at = ? WHERE id = ?", (at, token_id))
    return True
