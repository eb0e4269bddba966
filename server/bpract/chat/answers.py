"""SQL of the chat's stored answers as the quality feature reads, rates and grades them.

The ``grounding`` and ``grounding_method`` columns of ``chat_messages`` are added
by the quality feature's migrations; every statement on chat's tables stays here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import apsw

__all__ = [
    "answer_figures",
    "answers_between",
    "answers_by_id",
    "rate_answer",
    "set_grounding",
    "ungraded_answers",
]

# The visitor turn an answer replies to: the last one at or before it in its conversation.
_QUESTION = (
    "(SELECT v.text FROM chat_messages v WHERE v.site_id = m.site_id"
    " AND v.conversation_id = m.conversation_id AND v.role = 'visitor' AND v.at_ms <= m.at_ms"
    " ORDER BY v.at_ms DESC, v.rowid DESC LIMIT 1)"
)
_ANSWERS = f"""
SELECT m.id, m.text, m.grounding, m.actions, {_QUESTION},
  (SELECT r.rating FROM chat_ratings r WHERE r.message_id = m.id AND r.site_id = m.site_id)
FROM chat_messages m
WHERE m.site_id = ? AND m.role = 'bot' AND m.kind = 'answer' AND m.at_ms >= ? AND m.at_ms < ?
"""  # noqa: S608 - constant fragments only
_BY_ID = f"""
SELECT m.id, m.conversation_id, m.at_ms, {_QUESTION}, m.text, m.citations, m.passages,
  m.grounding, m.grounding_method, t.rating, t.comment
FROM chat_messages m
LEFT JOIN chat_ratings t ON t.message_id = m.id AND t.site_id = m.site_id
WHERE m.site_id = ? AND m.id = ?
"""  # noqa: S608 - constant fragments only


def answers_between(
    conn: apsw.Connection, site_id: int, start_ms: int, end_ms: int
) -> list[tuple[Any, ...]]:
    """``(id, text, grounding, actions, question, rating)`` of the answers in ``[start, end)``."""
    return [tuple(row) for row in conn.execute(_ANSWERS, (site_id, start_ms, end_ms))]


def answers_by_id(
    conn: apsw.Connection, site_id: int, ids: Sequence[str]
) -> dict[str, tuple[Any, ...]]:
    """Per message id: ``(conversation_id, at_ms, question, text, citations, passages,
    grounding, grounding_method, rating, rating comment)``; unknown ids are left out."""
    out: dict[str, tuple[Any, ...]] = {}
    for message_id in ids:
        row = conn.execute(_BY_ID, (site_id, message_id)).fetchone()
        if row is not None:
            out[str(row[0])] = tuple(row[1:])
    return out


def answer_figures(
    conn: apsw.Connection, site_id: int, start_ms: int, end_ms: int
) -> tuple[Any, ...]:
    """``(answers, graded, average grounding, ratings, thumbs down)`` in ``[start, end)``."""
    row = conn.execute(
        "SELECT COUNT(*), COUNT(m.grounding), AVG(m.grounding), COUNT(r.rating),"
        " COALESCE(SUM(r.rating = 'down'), 0)"
        " FROM chat_messages m LEFT JOIN chat_ratings r"
        "   ON r.message_id = m.id AND r.site_id = m.site_id"
        " WHERE m.site_id = ? AND m.role = 'bot' AND m.kind = 'answer'"
        "   AND m.at_ms >= ? AND m.at_ms < ?",
        (site_id, start_ms, end_ms),
    ).fetchone()
    return tuple(row) if row else (0, 0, None, 0, 0)


def ungraded_answers(conn: apsw.Connection, limit: int) -> list[tuple[Any, ...]]:
    """``(id, site_id, text, passages JSON)`` of the oldest answers without a grounding."""
    rows = conn.execute(
        "SELECT id, site_id, text, passages FROM chat_messages"
        " WHERE role = 'bot' AND kind = 'answer' AND grounding IS NULL"
        " ORDER BY at_ms LIMIT ?",
        (limit,),
    )
    return [tuple(row) for row in rows]


def set_grounding(
    conn: apsw.Connection, site_id: int, message_id: str, score: float, method: str
) -> None:
    # ``grounding IS NULL``: a score written meanwhile (another process) is kept.
    conn.execute(
        "UPDATE chat_messages SET grounding = ?, grounding_method = ?"
        " WHERE id = ? AND site_id = ? AND grounding IS NULL",
        (score, method, message_id, site_id),
    )


def rate_answer(
    conn: apsw.Connection,
    *,
    site_id: int,
    visitor: str,
    message_id: str,
    rating: str,
    comment: str | None,
    at_ms: int,
) -> bool:
    """Store (or replace) a rating of a bot answer in the visitor's own conversation."""
    owner = conn.execute(
        "SELECT 1 FROM chat_messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE m.id = ? AND m.site_id = ? AND c.site_id = ? AND c.visitor = ? AND m.role = 'bot'",
        (message_id, site_id, site_id, visitor),
    ).fetchone()
    if owner is None:
        return False
    conn.execute(
        "INSERT INTO chat_ratings (message_id, site_id, visitor, rating, comment, at_ms)"
        " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO UPDATE SET"
        " rating = excluded.rating, comment = excluded.comment, at_ms = excluded.at_ms"
        " WHERE chat_ratings.site_id = excluded.site_id"
        " AND chat_ratings.visitor = excluded.visitor",
        (message_id, site_id, visitor, rating, comment, at_ms),
    )
    return True
