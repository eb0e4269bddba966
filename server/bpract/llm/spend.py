"""SQL of budgets: limits, spend counters, open reservations, alert hooks and alerts sent."""

from __future__ import annotations

from typing import Any

import apsw

from bpract.store import dialect, insert_id

__all__ = [
    "alert_hook",
    "charge",
    "delete_reservation",
    "first_alert",
    "hold",
    "insert_reservation",
    "limit_rows",
    "scope_rows",
    "spending",
    "stale_reservations",
    "upsert_hook",
    "upsert_limit",
]

# Settling releases the hold (never below zero) and charges the real cost.
_CHARGE = (
    f"UPDATE llm_spend SET reserved_nano = {dialect.greatest('0', 'reserved_nano - ?')},"  # noqa: S608
    " spent_nano = spent_nano + ? WHERE site_id = ? AND department = ? AND period_key = ?"
)


def scope_rows(
    conn: apsw.Connection, site_id: int, department: str, day: str, month: str
) -> tuple[dict[tuple[Any, Any], tuple[Any, Any]], dict[tuple[Any, Any], tuple[Any, Any]]]:
    """``{(department, period): (soft, hard)}`` and ``{(department, key): (spent, reserved)}``
    of the site and ``department`` for this day and month."""
    limits = {
        (d, p): (s, h)
        for d, p, s, h in conn.execute(
            "SELECT department, period, soft_nano, hard_nano FROM llm_budgets"
            " WHERE site_id = ? AND department IN ('', ?)",
            (site_id, department),
        )
    }
    spend = {
        (d, k): (s, r)
        for d, k, s, r in conn.execute(
            "SELECT department, period_key, spent_nano, reserved_nano FROM llm_spend"
            " WHERE site_id = ? AND department IN ('', ?) AND period_key IN (?, ?)",
            (site_id, department, day, month),
        )
    }
    return limits, spend


def hold(conn: apsw.Connection, site_id: int, department: str, key: str, amount: int) -> None:
    conn.execute(
        "INSERT INTO llm_spend (site_id, department, period_key, reserved_nano)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (site_id, department, period_key) DO UPDATE"
        " SET reserved_nano = llm_spend.reserved_nano + excluded.reserved_nano",
        (site_id, department, key, amount),
    )


def insert_reservation(
    conn: apsw.Connection,
    site_id: int,
    department: str,
    periods: tuple[str, str],
    *,
    amount: int,
    created_ms: int,
) -> int:
    day, month = periods
    return insert_id(
        conn,
        "INSERT INTO llm_reservations (site_id, department, day, month, amount_nano, created_ms)"
        " VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (site_id, department, day, month, amount, created_ms),
    )


def delete_reservation(conn: apsw.Connection, reservation_id: int) -> bool:
    """False when it was gone already (settled, or released as stale)."""
    gone = conn.execute(
        "DELETE FROM llm_reservations WHERE id = ? RETURNING id", (reservation_id,)
    ).fetchall()
    return bool(gone)


def charge(
    conn: apsw.Connection, site_id: int, department: str, key: str, *, held: int, cost: int
) -> None:
    conn.execute(_CHARGE, (held, cost, site_id, department, key))


def stale_reservations(conn: apsw.Connection, before_ms: int) -> list[tuple[Any, ...]]:
    """``(id, site_id, department, day, month, amount_nano)`` created before ``before_ms``."""
    rows = conn.execute(
        "SELECT id, site_id, department, day, month, amount_nano"
        " FROM llm_reservations WHERE created_ms < ?",
        (before_ms,),
    )
    return [tuple(row) for row in rows]


def upsert_limit(
    conn: apsw.Connection,
    site_id: int,
    department: str,
    period: str,
    *,
    soft: int | None,
    hard: int | None,
) -> None:
    conn.execute(
        "INSERT INTO llm_budgets (site_id, department, period, soft_nano, hard_nano)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (site_id, department, period) DO UPDATE"
        " SET soft_nano = excluded.soft_nano, hard_nano = excluded.hard_nano",
        (site_id, department, period, soft, hard),
    )


def limit_rows(conn: apsw.Connection, site_id: int) -> list[tuple[Any, ...]]:
    """``(department, period, soft_nano, hard_nano)`` of every limit of the site."""
    rows = conn.execute(
        "SELECT department, period, soft_nano, hard_nano FROM llm_budgets"
        " WHERE site_id = ? ORDER BY department, period",
        (site_id,),
    )
    return [tuple(row) for row in rows]


def upsert_hook(conn: apsw.Connection, site_id: int, url: str, thresholds: str) -> None:
    conn.execute(
        "INSERT INTO llm_alert_hooks (site_id, url, thresholds) VALUES (?, ?, ?)"
        " ON CONFLICT (site_id) DO UPDATE SET url = excluded.url, thresholds = excluded.thresholds",
        (site_id, url, thresholds),
    )


def alert_hook(conn: apsw.Connection, site_id: int) -> tuple[str, str] | None:
    """``(url, thresholds JSON)`` of the site's alert hook, if it set one."""
    row = conn.execute(
        "SELECT url, thresholds FROM llm_alert_hooks WHERE site_id = ?", (site_id,)
    ).fetchone()
    return None if row is None else (str(row[0]), str(row[1]))


def first_alert(
    conn: apsw.Connection, site_id: int, department: str, key: str, *, threshold: str, at_ms: int
) -> bool:
    """Record the alert; False when it was sent already in this period."""
    inserted = conn.execute(
        "INSERT INTO llm_alerts (site_id, department, period_key, threshold, at_ms)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (site_id, department, period_key, threshold)"
        " DO NOTHING RETURNING threshold",
        (site_id, department, key, threshold, at_ms),
    ).fetchall()
    return bool(inserted)


def spending(
    conn: apsw.Connection, site_id: int, day: str, month: str
) -> tuple[list[tuple[str, str, int, int]], str | None]:
    """This day's and month's ``(department, period_key, spent, reserved)``; the hook URL."""
    spend = [
        (str(d), str(k), int(s), int(r))
        for d, k, s, r in conn.execute(
            "SELECT department, period_key, spent_nano, reserved_nano FROM llm_spend"
            " WHERE site_id = ? AND period_key IN (?, ?) ORDER BY department, period_key",
            (site_id, day, month),
        )
    ]
    hook = conn.execute("SELECT url FROM llm_alert_hooks WHERE site_id = ?", (site_id,)).fetchone()
    return spend, None if hook is None else str(hook[0])
