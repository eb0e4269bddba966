"""SQL of the admin API's tokens: stored as sha256 hashes, never the token itself."""

from __future__ import annotations

import apsw

__all__ = ["insert_token", "use_token"]


def insert_token(conn: apsw.Connection, name: str, token_hash: str, created_at: str) -> None:
    conn.execute(
        "INSERT INTO admin_tokens (name, token_hash, created_at) VALUES (?, ?, ?)",
        (name, token_hash, created_at),
    )


def use_token(conn: apsw.Connection, token_hash: str, at: str) -> str | None:
    """The name of the token with this hash, its use recorded; None for an unknown hash."""
    row = conn.execute(
        "UPDATE admin_tokens SET last_used_at = ? WHERE token_hash = ? RETURNING name",
        (at, token_hash),
    ).fetchall()
    return str(row[0][0]) if row else None
