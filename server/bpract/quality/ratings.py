"""Visitors' ratings of answers: only a bot answer in the visitor's own conversation."""

from __future__ import annotations

import apsw

from bpract.chat.answers import rate_answer

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
    note = (comment or "").strip()[:MAX_COMMENT] or None
    return rate_answer(
        conn,
        site_id=site_id,
        visitor=visitor,
        message_id=message_id,
        rating=rating,
        comment=note,
        at_ms=at_ms,
    )
