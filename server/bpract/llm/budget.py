"""Daily and monthly budgets per site and department: reserve before a call, settle after.

The counters live in SQLite and every check-and-reserve is one transaction on
the database thread, so concurrent calls (in this process or another) cannot
together pass a hard limit: only the cost a call underestimated can exceed it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Literal

import apsw
import msgspec

from bpract.llm import spend
from bpract.llm.errors import BudgetExceededError
from bpract.store import Database

__all__ = ["Alert", "Budgets", "Limit", "Pressure", "Reservation", "period_keys"]

Period = Literal["day", "month"]
DEFAULT_THRESHOLDS = (0.5, 0.8, 1.0)


class Limit(msgspec.Struct, frozen=True, kw_only=True):
    """A budget for one scope; ``department=""`` is the whole site."""

    period: Period
    department: str = ""
    soft_nano: int | None = None
    hard_nano: int | None = None


class Reservation(msgspec.Struct, frozen=True, kw_only=True):
    """Money held for one call until it settles."""

    id: int
    site_id: int
    department: str
    day: str
    month: str
    amount_nano: int


class Pressure(msgspec.Struct, frozen=True, kw_only=True):
    """How close a site/department is to its limits, for the router."""

    ratio: float = 0.0
    """Highest (spent + reserved) / hard limit over the scopes; 0 when no hard limit is set."""
    soft_exceeded: bool = False


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    """A threshold crossed for the first time in a period."""

    site_id: int
    department: str
    period_key: str
    threshold: str
    spent_nano: int
    limit_nano: int
    url: str | None


def period_keys(at: float) -> tuple[str, str]:
    """The UTC day and month keys of timestamp ``at``."""
    moment = datetime.fromtimestamp(at, UTC)
    return moment.strftime("%Y-%m-%d"), moment.strftime("%Y-%m")


class _Scope(msgspec.Struct, frozen=True):
    department: str
    period: Period
    key: str
    soft: int | None
    hard: int | None
    spent: int
    reserved: int


class Budgets:
    """Budget limits, reservations and settlement for every site, backed by ``db``."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    async def pressure(self, site_id: int, department: str) -> Pressure:
        day, month = period_keys(self.clock())
        scopes = await self.db.run(lambda c: _scopes(c, site_id, department, day, month))
        return _pressure(scopes)

    async def reserve(self, site_id: int, department: str, amount_nano: int) -> Reservation:
        """Hold ``amount_nano`` in every scope, or raise :class:`BudgetExceededError`."""
        now = self.clock()
        day, month = period_keys(now)

        def tx(conn: apsw.Connection) -> Reservation:
            for s in _scopes(conn, site_id, department, day, month):
                if s.hard is not None and s.spent + s.reserved + amount_nano > s.hard:
                    where = f"{s.department or 'site'} {s.period} {s.key}"
                    raise BudgetExceededError(f"hard budget reached ({where})", where)
            for dept, key in _keys(department, day, month):
                spend.hold(conn, site_id, dept, key, amount_nano)
            reservation_id = spend.insert_reservation(
                conn,
                site_id,
                department,
                (day, month),
                amount=amount_nano,
                created_ms=int(now * 1000),
            )
            return Reservation(
                id=reservation_id,
                site_id=site_id,
                department=department,
                day=day,
                month=month,
                amount_nano=amount_nano,
            )

        # The write lock is taken before the counters are read: two processes cannot
        # both see room under a hard limit and both reserve it.
        return await self.db.transaction(tx, lock=True)

    async def settle(self, reservation: Reservation, cost_nano: int) -> list[Alert]:
        """Release the reservation and charge the real cost; returns alerts to send."""
        return await self.db.transaction(lambda c: self.settle_in(c, reservation, cost_nano))

    def settle_in(self, conn: apsw.Connection, r: Reservation, cost_nano: int) -> list[Alert]:
        """:meth:`settle` inside a caller's transaction (on the database thread)."""
        if not spend.delete_reservation(conn, r.id):
            return []  # already settled or released as stale
        for dept, key in _keys(r.department, r.day, r.month):
            spend.charge(conn, r.site_id, dept, key, held=r.amount_nano, cost=cost_nano)
        if cost_nano == 0:
            return []
        return _new_alerts(conn, r, int(self.clock() * 1000))

    async def release_stale(self, max_age_s: float = 900.0) -> int:
        """Settle at zero the reservations of calls that never settled (a crashed worker)."""
        cutoff = int((self.clock() - max_age_s) * 1000)

        def tx(conn: apsw.Connection) -> int:
            rows = spend.stale_reservations(conn, cutoff)
            for row in rows:
                keys = ("id", "site_id", "department", "day", "month", "amount_nano")
                self.settle_in(
                    conn, msgspec.convert(dict(zip(keys, row, strict=True)), Reservation), 0
                )
            return len(rows)

        return await self.db.transaction(tx)

    async def set_limit(self, site_id: int, limit: Limit) -> None:
        await self.db.run(
            lambda c: spend.upsert_limit(
                c,
                site_id,
                limit.department,
                limit.period,
                soft=limit.soft_nano,
                hard=limit.hard_nano,
            )
        )

    async def limits(self, site_id: int) -> list[Limit]:
        rows = await self.db.run(lambda c: spend.limit_rows(c, site_id))
        keys = ("department", "period", "soft_nano", "hard_nano")
        return [msgspec.convert(dict(zip(keys, row, strict=True)), Limit) for row in rows]

    async def spending(self, site_id: int) -> tuple[list[tuple[str, str, int, int]], str | None]:
        """Today's and this month's ``(department, period_key, spent, reserved)``; the hook URL."""
        day, month = period_keys(self.clock())
        return await self.db.run(lambda c: spend.spending(c, site_id, day, month))

    async def set_hook(
        self, site_id: int, url: str, thresholds: Iterable[float] = DEFAULT_THRESHOLDS
    ) -> None:
        """Send alerts for ``site_id`` to ``url`` when spend crosses these fractions."""
        marks = json.dumps(sorted({float(t) for t in thresholds}))
        await self.db.run(lambda c: spend.upsert_hook(c, site_id, url, marks))


def _keys(department: str, day: str, month: str) -> list[tuple[str, str]]:
    departments = ["", department] if department else [""]
    return [(d, k) for d in departments for k in (day, month)]


def _scopes(
    conn: apsw.Connection, site_id: int, department: str, day: str, month: str
) -> list[_Scope]:
    limits, counters = spend.scope_rows(conn, site_id, department, day, month)
    out = []
    for dept, key in _keys(department, day, month):
        period: Period = "day" if key == day else "month"
        soft, hard = limits.get((dept, period), (None, None))
        spent, reserved = counters.get((dept, key), (0, 0))
        out.append(_Scope(dept, period, key, soft, hard, spent, reserved))
    return out


def _pressure(scopes: list[_Scope]) -> Pressure:
    ratio, soft = 0.0, False
    for s in scopes:
        held = s.spent + s.reserved
        if s.hard:
            ratio = max(ratio, held / s.hard)
        if s.soft is not None and held >= s.soft:
            soft = True
    return Pressure(ratio=ratio, soft_exceeded=soft)


def _new_alerts(conn: apsw.Connection, r: Reservation, now_ms: int) -> list[Alert]:
    hook = spend.alert_hook(conn, r.site_id)
    url, marks = (hook[0], json.loads(hook[1])) if hook else (None, list(DEFAULT_THRESHOLDS))
    alerts = []
    for s in _scopes(conn, r.site_id, r.department, r.day, r.month):
        crossed = [(f"{m:g}", s.hard) for m in marks if s.hard and s.spent >= m * s.hard]
        if s.soft is not None and s.spent >= s.soft:
            crossed.append(("soft", s.soft))
        for threshold, limit in crossed:
            if spend.first_alert(
                conn, r.site_id, s.department, s.key, threshold=threshold, at_ms=now_ms
            ):
                alerts.append(
                    Alert(
                        site_id=r.site_id,
                        department=s.department,
                        period_key=s.key,
                        threshold=threshold,
                        spent_nano=s.spent,
                        limit_nano=limit,
                        url=url,
                    )
                )
    return alerts
