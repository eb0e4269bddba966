"""REST endpoints for model usage, budgets and routing decisions, under ``/api/sites/{key}/llm``."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, put
from litestar.exceptions import ValidationException
from litestar.params import FromPath, FromQuery, JSONBody

from bpract.auth import admin_guard
from bpract.llm.budget import Budgets, Limit
from bpract.llm.ledger import GROUPS, Decision, Group, Ledger, UsageRow
from bpract.llm.prices import usd
from bpract.sites.api import site_id_or_404
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


async def _site_id(request: AnyRequest, site_key: str) -> int:
    db: Database = request.app.state.db
    return await site_id_or_404(db, site_key)


class LLMController(Controller):
    path = "/api/sites/{site_key:str}/llm"
    guards = [admin_guard]  # noqa: RUF012 - Litestar reads it from the class
    tags = ["llm"]  # noqa: RUF012

    @get("/usage")
    async def usage(
        self,
        request: AnyRequest,
        site_key: FromPath[str],
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        by: FromQuery[list[str] | None] = None,
    ) -> UsageOut:
        """Cost and tokens grouped by ``by``: day, department, rule, conversation, model…"""
        groups = by or ["day", "model"]
        unknown = [g for g in groups if g not in GROUPS]
        if unknown:
            raise ValidationException(detail=f"cannot group by {', '.join(unknown)}")
        site_id = await _site_id(request, site_key)
        ledger = Ledger(request.app.state.db)
        columns: list[Group] = [g for g in GROUPS if g in groups]
        columns.sort(key=groups.index)
        rows = await ledger.summary(site_id=site_id, since=since, until=until, by=columns)
        return UsageOut(
            by=list(columns),
            rows=rows,
            total_cost_usd=usd(sum(r.cost_nano for r in rows)),
            total_saved_usd=usd(sum(r.saved_nano for r in rows)),
        )

    @get("/budgets")
    async def budgets(self, request: AnyRequest, site_key: FromPath[str]) -> BudgetsOut:
        """Limits, this day's and month's spend and reservations, and the alert webhook."""
        site_id = await _site_id(request, site_key)
        budgets = Budgets(request.app.state.db)
        spend, hook_url = await budgets.spending(site_id)
        keys = ("department", "period_key", "spent_nano", "reserved_nano")
        return BudgetsOut(
            limits=await budgets.limits(site_id),
            spend=[msgspec.convert(dict(zip(keys, r, strict=True)), Spend) for r in spend],
            hook_url=hook_url,
        )

    @put("/budgets")
    async def set_budget(
        self, request: AnyRequest, site_key: FromPath[str], data: JSONBody[Limit]
    ) -> Limit:
        """Set one limit (a department or ``""`` for the site; ``day`` or ``month``)."""
        if any(v is not None and v < 0 for v in (data.soft_nano, data.hard_nano)):
            raise ValidationException(detail="limits cannot be negative")
        await Budgets(request.app.state.db).set_limit(await _site_id(request, site_key), data)
        return data

    @put("/budgets/hook")
    async def set_hook(
        self, request: AnyRequest, site_key: FromPath[str], data: JSONBody[HookIn]
    ) -> HookIn:
        """Where threshold alerts are POSTed, and at which fractions of the hard limit."""
        if not data.url.startswith(("http://", "https://")):
            raise ValidationException(detail="the hook must be an http(s) URL")
        site_id = await _site_id(request, site_key)
        await Budgets(request.app.state.db).set_hook(site_id, data.url, data.thresholds)
        return data

    @get("/decisions/{conversation:str}")
    async def decisions(
        self, request: AnyRequest, site_key: FromPath[str], conversation: FromPath[str]
    ) -> list[Decision]:
        """Every routing decision of a conversation, with its reason and attempts."""
        site_id = await _site_id(request, site_key)
        return await Ledger(request.app.state.db).decisions(site_id, conversation)


route_handlers: list[Any] = [LLMController]
