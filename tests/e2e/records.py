"""What the server stored about one visitor, read from its SQLite file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from browser.fixtures.served import Store

__all__ = ["Fire", "Records"]


@dataclass(frozen=True)
class Fire:
    rule_id: str
    status: str
    reason: str
    outreach_id: str | None


class Records:
    """Read-only queries scoped to one visitor."""

    def __init__(self, db: Path, visitor: str) -> None:
        self._store = Store(db, "")
        self.visitor = visitor

    def rows(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return self._store.rows(sql, *params)

    def fires(self, rule_id: str) -> list[Fire]:
        sql = (
            "SELECT rule_id, status, reason, outreach_id FROM fires"
            " WHERE visitor = ? AND rule_id = ? AND status != 'pending' ORDER BY id"
        )
        return [Fire(*row) for row in self.rows(sql, self.visitor, rule_id)]

    def outreach(self, outreach_id: str) -> dict[str, Any]:
        sql = "SELECT rule_id, visitor, message, cta, fire_id FROM outreach WHERE id = ?"
        rows = self.rows(sql, outreach_id)
        if not rows:
            return {}
        rule_id, visitor, message, cta, fire_id = rows[0]
        return {
            "rule_id": rule_id,
            "visitor": visitor,
            "message": message,
            "cta": json.loads(cta) if cta else None,
            "fire_id": fire_id,
        }

    def outcomes(self, outreach_id: str) -> list[str]:
        sql = "SELECT kind FROM outcomes WHERE outreach_id = ? AND visitor = ? ORDER BY id"
        return [kind for (kind,) in self.rows(sql, outreach_id, self.visitor)]

    def count(self, table: str) -> int:
        """Rows of ``table`` (one of ours, never user input) for this visitor."""
        sql = f"SELECT COUNT(*) FROM {table} WHERE visitor = ?"
        return int(self.rows(sql, self.visitor)[0][0])

    def signals(self, name: str) -> list[dict[str, Any]]:
        sql = "SELECT data FROM signals WHERE visitor = ? AND name = ? ORDER BY at_ms, id"
        return [json.loads(data) for (data,) in self.rows(sql, self.visitor, name)]

    def frame_seqs(self) -> dict[str, list[int]]:
        """Every stored frame's seq, per stream, in order."""
        sql = "SELECT stream, seq FROM frames WHERE visitor = ? ORDER BY stream, seq"
        streams: dict[str, list[int]] = {}
        for stream, seq in self.rows(sql, self.visitor):
            streams.setdefault(stream, []).append(seq)
        return streams

    def frames(self, t: str) -> list[dict[str, Any]]:
        sql = "SELECT body FROM frames WHERE visitor = ? AND t = ? ORDER BY stream, seq"
        return [json.loads(body) for (body,) in self.rows(sql, self.visitor, t)]
