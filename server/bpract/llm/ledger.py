"""The usage ledger and the routing decision log, and the queries that read them."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any, Literal

import apsw
import msgspec

from bpract.llm.budget import period_keys
from bpract.llm.types import Usage
from bpract.store import Database, insert_id

__all__ = ["GROUPS", "Decision", "Group", "Ledger", "UsageRecord", "UsageRow", "cost_by_rule"]

Group = Literal["day", "site_id", "department", "rule", "conversation", "model", "provider", "task"]
#: Columns a usage summary may be grouped by.
GROUPS: tuple[Group, ...] = (
    "day",
    "site_id",
    "department",
    "rule",
    "conversation",
    "model",
    "provider",
    "task",
)


class UsageRecord(msgspec.Struct, frozen=True, kw_only=True):
    """One priced call."""

    site_id: int
    department: str
    rule: str
    conversation: str
    task: str
    provider: str
    model: str
    streamed: bool
    usage: Usage
    cost_nano: int
    saved_nano: int
    price_version: str
    priced: bool


class Decision(msgspec.Struct, frozen=True, kw_only=True):
    """Why a call went where it went, and how it ended."""

    site_id: int
    department: str
    rule: str
    conversation: str
    task: str
    tier: str
    provider: str
    model: str
    outcome: Literal["ok", "fallback", "degraded", "failed"]
    reason: str
    attempts: list[dict[str, str]] = msgspec.field(default_factory=list)
    usage_id: int | None = None
    id: int | None = None
    at_ms: int | None = None


class UsageRow(msgspec.Struct, frozen=True, kw_only=True):
    """Totals for one group of a usage summary."""

    group: dict[str, Any]
    calls: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_nano: int
    saved_nano: int


class Ledger:
    """Writes (inside the gateway's settlement transaction) and reads the ledger."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def record_in(self, conn: apsw.Connection, r: UsageRecord) -> int:
        now = self.clock()
        u = r.usage
        return insert_id(
            conn,
            "INSERT INTO llm_usage (at_ms, day, site_id, department, rule, conversation, task,"
            " provider, model, streamed, input_tokens, output_tokens, cache_read_tokens,"
            " cache_write_tokens, cost_nano, saved_nano, price_version, priced)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                int(now * 1000), period_keys(now)[0], r.site_id, r.department, r.rule,
                r.conversation, r.task, r.provider, r.model, int(r.streamed), u.input, u.output,
                u.cache_read, u.cache_write, r.cost_nano, r.saved_nano, r.price_version,
                int(r.priced),
            ),
        )  # fmt: skip

    def decide_in(self, conn: apsw.Connection, d: Decision) -> int:
        return insert_id(
            conn,
            "INSERT INTO llm_decisions (at_ms, site_id, department, rule, conversation, task,"
            " tier, provider, model, outcome, reason, attempts, usage_id)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (
                int(self.clock() * 1000), d.site_id, d.department, d.rule, d.conversation,
                d.task, d.tier, d.provider, d.model, d.outcome, d.reason,
                json.dumps(d.attempts), d.usage_id,
            ),
        )  # fmt: skip

    async def summary(
        self,
        *,
        site_id: int | None = None,
        since: str | None = None,
        until: str | None = None,
        by: Sequence[Group] = ("day", "model"),
    ) -> list[UsageRow]:
        """Totals grouped by ``by``, for days ``since``..``until`` (inclusive, UTC)."""
        columns = [g for g in by if g in GROUPS]  # whitelisted: they become SQL identifiers
        where, args = _filters(site_id, since, until)
        select = ", ".join([*columns, _TOTALS]) if columns else _TOTALS
        sql = f"SELECT {select} FROM llm_usage{where}"  # noqa: S608 - columns whitelisted
        if columns:
            sql += f" GROUP BY {', '.join(columns)} ORDER BY {', '.join(columns)}"
        rows: list[tuple[Any, ...]] = await self.db.run(lambda c: c.execute(sql, args).fetchall())
        n = len(columns)
        totals: tuple[str, ...] = ("calls", "input_tokens", "output_tokens", "cache_read_tokens")
        totals += ("cache_write_tokens", "cost_nano", "saved_nano")
        return [
            msgspec.convert(
                {"group": dict(zip(columns, row[:n], strict=True))}
                | dict(zip(totals, row[n:], strict=True)),
                UsageRow,
            )
            for row in rows
            if row[n]
        ]

    async def tier_share(self, site_id: int, since_ms: int) -> dict[str, int]:
        """How many calls the router sent to each tier since ``since_ms``."""
        sql = (
            "SELECT tier, COUNT(*) FROM llm_decisions WHERE site_id = ? AND at_ms >= ?"
            " GROUP BY tier ORDER BY tier"
        )
        rows: list[tuple[Any, ...]] = await self.db.run(
            lambda c: c.execute(sql, (site_id, since_ms)).fetchall()
        )
        return {str(tier): int(n) for tier, n in rows}

    async def decisions(self, site_id: int, conversation: str) -> list[Decision]:
        """Every routing decision of one conversation, oldest first."""
        rows: list[tuple[Any, ...]] = await self.db.run(
            lambda c: c.execute(
                "SELECT id, at_ms, site_id, department, rule, conversation, task, tier, provider,"
                " model, outcome, reason, attempts, usage_id FROM llm_decisions"
                " WHERE site_id = ? AND conversation = ? ORDER BY id",
                (site_id, conversation),
            ).fetchall()
        )
        keys: tuple[str, ...] = ("id", "at_ms", "site_id", "department", "rule", "conversation")
        keys += ("task", "tier", "provider", "model", "outcome", "reason", "attempts", "usage_id")
        out = []
        for row in rows:
            raw = dict(zip(keys, row, strict=True))
            raw["attempts"] = json.loads(raw["attempts"])
            out.append(msgspec.convert(raw, Decision))
        return out


_TOTALS = (
    "COUNT(*), COALESCE(SUM(input_tokens), 0), COALESCE(SUM(output_tokens), 0),"
    " COALESCE(SUM(cache_read_tokens), 0), COALESCE(SUM(cache_write_tokens), 0),"
    " COALESCE(SUM(cost_nano), 0), COALESCE(SUM(saved_nano), 0)"
)


def _filters(site_id: int | None, since: str | None, until: str | None) -> tuple[str, list[Any]]:
    clauses, args = [], []
    for clause, value in (("site_id = ?", site_id), ("day >= ?", since), ("day <= ?", until)):
        if value is not None:
            clauses.append(clause)
            args.append(value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), args


def cost_by_rule(
    conn: apsw.Connection, site_id: int, since_ms: int, *, task: str
) -> dict[str, int]:
    """What the model calls of ``task`` cost per rule since ``since_ms`` (nano-dollars)."""
    rows = conn.execute(
        "SELECT rule, SUM(cost_nano) FROM llm_usage WHERE site_id = ? AND at_ms >= ?"
        " AND task = ? GROUP BY rule",
        (site_id, since_ms, task),
    )
    return {str(rule): int(nano) for rule, nano in rows}
