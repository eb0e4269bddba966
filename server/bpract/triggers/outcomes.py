"""Outcomes of an outreach as the widget reports them, one of each kind per outreach."""

from __future__ import annotations

import apsw

__all__ = ["OUTCOME_KINDS", "insert_outcome"]

OUTCOME_KINDS = frozenset({"shown", "opened", "clicked", "dismissed", "replied", "converted"})


def insert_outcome(
    conn: apsw.Connection, *, site_id: int, visitor: str, outreach_id: str, kind: str, at_ms: int
) -> bool:
    """Store the outcome; False for an unknown kind, an outreach that was not sent to
    this visitor of this site, or a kind already recorded."""
    if kind not in OUTCOME_KINDS:
        return False
    owned = conn.execute(
        "SELECT 1 FROM outreach WHERE id = ? AND site_id = ? AND visitor = ?",
        (outreach_id, site_id, visitor),
    ).fetchone()
    if owned is None:
        return False
    inserted = conn.execute(
        "INSERT INTO outcomes (site_id, outreach_id, visitor, kind, at_ms) VALUES (?, ?, ?, ?, ?)"
        " ON CONFLICT (outreach_id, kind) DO NOTHING RETURNING id",
        (site_id, outreach_id, visitor, kind, at_ms),
    ).fetchone()
    return inserted is not None
