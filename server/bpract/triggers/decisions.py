"""Who decided a fire and what it cost, stored on the fire beside its outcome."""

from __future__ import annotations

import apsw

from bpract.triggers.decider import Decision

__all__ = ["record_decision"]


def record_decision(conn: apsw.Connection, fire_id: int, decision: Decision) -> None:
    """Store the decider, model and cost of ``decision`` on fire ``fire_id``."""
    conn.execute(
        "UPDATE fires SET decided_by = ?, provider = ?, model = ?, cost_nano = ? WHERE id = ?",
        (
            decision.decided_by,
            decision.provider or None,
            decision.model or None,
            decision.cost_nano,
            fire_id,
        ),
    )
