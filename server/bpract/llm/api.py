"""REST endpoints for model usage, budgets and routing decisions, under ``/api/sites/{key}/llm``."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, put
from litestar.di import NamedDependency
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery, JSONBody

from bpract.di import from_state
from bpract.llm.budget import Budgets, Limit
from bpract.llm.ledger import GROUPS, Decision, Group, Ledger, UsageRow
from bpract.llm.prices import usd
from bpract.net import NetSettings, OutboundError, check_target
from bpract.settings import Settings
from bpract.sites.api import admin_dependencies
from bpract.sites.auth import BUDGETS_WRITE, SITE_READ, admin_guard, requires
from bpract.store import Database

__all__ = ["BudgetsOut", "HookIn", "LLMController", "UsageOut", "route_handlers"]

AnyRequest = Request[Any, Any, Any]


class UsageOut(msgspec.Struct, frozen=True, kw_only=True):
    """A usage summary: one row per group, with dollars beside nano-dollars."""

    by: list[str]
    rows: list[UsageRow]
    total_cost_usd: float
    total_saved_usd: float


class Spend(msgspec.Struct, frozen=True, kw_only=True):
    department: str
    period_key: str
    spent_nano: int
    reserved_nano: int


class BudgetsOut(msgspec.Struct, frozen=True, kw_only=True):
    limits: list[Limit]
    spend: list[Spend]
    hook_url: str | None


class HookIn(msgspec.Struct, frozen=True, kw_only=True):
    url: str
    thresholds: list[float] = msgspec.field(default_factory=lambda: [0.5, 0.8, 1.0])


class LLMController(Controller):
    path = "/api/sites/{site_key:str}/llm"
    dependencies = admin_dependencies("db")
    guards = [admin_guard]  # noqa: RUF012 - Litestar reads it from the class
    tags = ["llm"]  # noqa: RUF012

    @get("/usage", opt=requires(SITE_READ))
    async def usage(
        self,
        db: NamedDependency[Database],
        site_id: NamedDependency[int],
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        by: FromQuery[list[str] | None] = None,
    ) -> UsageOut:
        """Cost and tokens grouped by ``by``: day, department, rule, conversation, model…"""
        groups = by or ["day", "model"]
        unknown = [g for g in groups if g not in GROUPS]
        if unknown:
            raise ValidationException(detail=f"cannot group by {', '.join(unknown)}")
        ledger = Ledger(db)
        columns: list[Group] = [g for g in GROUPS if g in groups]
        columns.sort(key=groups.index)
        rows = await ledger.summary(site_id=site_id, since=since, until=until, by=columns)
        return UsageOut(
            by=list(columns),
            rows=rows,
            total_cost_usd=usd(sum(r.cost_nano for r in rows)),
            total_saved_usd=usd(sum(r.saved_nano for r in rows)),
        )

    @get("/budgets", opt=requires(SITE_READ))
    async def budgets(
        self, db: NamedDependency[Database], site_id: NamedDependency[int]
    ) -> BudgetsOut:
        """Limits, this day's and month's spend and reservations, and the alert webhook."""
        budgets = Budgets(db)
        spend, hook_url = await budgets.spending(site_id)
        keys = ("department", "period_key", "spent_nano", "reserved_nano")
        return BudgetsOut(
            limits=await budgets.limits(site_id),
            spend=[msgspec.convert(dict(zip(keys, r, strict=True)), Spend) for r in spend],
            hook_url=hook_url,
        )

    @put("/budgets", opt=requires(BUDGETS_WRITE))
    async def set_budget(
        self, db: NamedDependency[Database], site_id: NamedDependency[int], data: JSONBody[Limit]
    ) -> Limit:
        """Set one limit (a department or ``""`` for the site; ``day`` or ``month``)."""
        if any(v is not None and v < 0 for v in (data.soft_nano, data.hard_nano)):
            raise ValidationException(detail="limits cannot be negative")
        await Budgets(db).set_limit(site_id, data)
        return data

    @put("/budgets/hook", opt=requires(BUDGETS_WRITE), dependencies=from_state("settings"))
    async def set_hook(
        self,
        db: NamedDependency[Database],
        site_id: NamedDependency[int],
        settings: NamedDependency[Settings],
        data: JSONBody[HookIn],
    ) -> HookIn:
        """Where threshold alerts are POSTed, and at which fractions of the hard limit.
        A private, loopback or link-local target is refused unless allow-listed."""
        if not data.url.startswith(("http://", "https://")):
            raise ValidationException(detail="the hook must be an http(s) URL")
        try:
            await check_target(data.url, settings.of(NetSettings))
        except OutboundError as exc:
            raise ValidationException(detail=f"the hook is refused: {exc.detail}") from None
        await Budgets(db).set_hook(site_id, data.url, data.thresholds)
        return data

    @get("/decisions/{conversation:str}", opt=requires(SITE_READ))
    async def decisions(
        self,
        db: NamedDependency[Database],
        site_id: NamedDependency[int],
        conversation: FromPath[str],
    ) -> list[Decision]:
        """Every routing decision of a conversation, with its reason and attempts."""
        return await Ledger(db).decisions(site_id, conversation)


route_handlers: list[Any] = [LLMController]
