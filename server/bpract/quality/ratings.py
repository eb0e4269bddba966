"""Visitors' ratings of answers: only a bot answer in the visitor's own conversation."""

from __future__ import annotations

import apsw

__all__ = ["MAX_COMMENT", "RATINGS", "record_rating"]

RATINGS = frozenset({"up", "down"})
MAX_COMMENT = 1000


def record_rating(
    conn: apsw.Connection,
    *,
    site_id: int,
    visitor: str,
    message_id: str,
    rating: str,
    comment: str | None,
    at_ms: int,
) -> bool:
    """Store (or replace) the rating; False for another site's or visitor's message, or a
    message that is not a bot answer, or a rating other than ``up``/``down``."""
    if rating not in RATINGS:
        return False
    owner = conn.execute(
        "SELECT 1 FROM chat_messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE m.id = ? AND m.site_id = ? AND c.site_id = ? AND c.visitor = ? AND m.role = 'bot'",
        (message_id, site_id, site_id, visitor),
    ).fetchone()
    if owner is None:
        return False
    note = (comment or "").strip()[:MAX_COMMENT] or None
    conn.execute(
        "INSERT INTO chat_ratings (message_id, site_id, visitor, rating, comment, at_ms)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO UPDATE SET"
        " rating = excluded.rating, comment = excluded.comment, at_ms = excluded.at_ms"
        " WHERE chat_ratings.site_id = excluded.site_id"
        " AND chat_ratings.visitor = excluded.visitor",
        (message_id, site_id, visitor, rating, note, at_ms),
    )
    return True
