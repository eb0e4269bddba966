"""The usage page: what the models cost a site per day — by department, model and task — its
budgets and today's spend against them, and the share of calls each routing tier took.

Figures come from the LLM usage ledger and the budget tables (``bpract.llm``); the page
shows each chart's numbers as a table too, so it reads without script.  The charts are
drawn by uPlot (``/console/vendor/``) from the JSON block ``#usage-data``.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final

from bpract.llm.budget import Budgets, Limit
from bpract.llm.ledger import Group, Ledger, UsageRow
from bpract.store import Database

__all__ = ["PERIODS", "Usage", "read_usage", "usage_body"]

PERIODS: Final = (7, 14, 30, 90)
_BREAKDOWNS: Final[tuple[tuple[Group, str], ...]] = (
    ("department", "Cost per day by department"),
    ("model", "Cost per day by model"),
    ("task", "Cost per day by task"),
)


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _usd(nano: int) -> str:
    dollars = nano / 1e9
    return f"${dollars:,.2f}" if dollars >= 1 or dollars == 0 else f"${dollars:,.4f}"


@dataclass(frozen=True, slots=True)
class Series:
    """One breakdown over the period: the days, and per name the cost of each day (nano)."""

    title: str
    by: str
    days: list[str]
    costs: dict[str, list[int]]


@dataclass(frozen=True, slots=True)
class Usage:
    today: str
    days: int
    today_by_department: list[tuple[str, int, int]]
    """``(department, calls, cost_nano)`` of today, costliest first."""
    series: list[Series]
    limits: list[Limit]
    month_by_department: dict[str, int]
    """This month's cost (nano) per department, from the ledger."""
    tiers: dict[str, int]


def _series(rows: Sequence[UsageRow], by: str, title: str, days: list[str]) -> Series:
    index = {d: i for i, d in enumerate(days)}
    costs: dict[str, list[int]] = defaultdict(lambda: [0] * len(days))
    for row in rows:
        day = str(row.group.get("day"))
        if day in index:
            costs[str(row.group.get(by) or "(none)")][index[day]] += row.cost_nano
    ordered = dict(sorted(costs.items(), key=lambda kv: -sum(kv[1])))
    return Series(title=title, by=by, days=days, costs=ordered)


async def read_usage(db: Database, site_id: int, days: int, now: datetime | None = None) -> Usage:
    """The site's usage over the last ``days`` days (today included), UTC."""
    moment = now or datetime.now(UTC)
    today = moment.date()
    listed = [(today - timedelta(days=n)).isoformat() for n in range(days - 1, -1, -1)]
    ledger = Ledger(db)
    series = []
    for by, title in _BREAKDOWNS:
        rows = await ledger.summary(site_id=site_id, since=listed[0], until=listed[-1],
                                    by=("day", by))  # fmt: skip
        series.append(_series(rows, by, title, listed))
    todays = await ledger.summary(site_id=site_id, since=listed[-1], until=listed[-1],
                                  by=("department",))  # fmt: skip
    today_by = sorted(
        ((str(r.group["department"]), r.calls, r.cost_nano) for r in todays), key=lambda t: -t[2]
    )
    month = await ledger.summary(site_id=site_id, since=today.replace(day=1).isoformat(),
                                 until=listed[-1], by=("department",))  # fmt: skip
    start_ms = int(datetime.fromisoformat(listed[0]).replace(tzinfo=UTC).timestamp() * 1000)
    return Usage(
        today=listed[-1], days=days, today_by_department=today_by, series=series,
        limits=await Budgets(db).limits(site_id),
        month_by_department={str(r.group["department"]): r.cost_nano for r in month},
        tiers=await ledger.tier_share(site_id, start_ms),
    )  # fmt: skip


def _limit_cell(limit: Limit | None, spent: int) -> str:
    if limit is None or limit.hard_nano is None:
        return '<td class="meta">no limit</td>'
    share = spent / limit.hard_nano if limit.hard_nano else 1.0
    level = "bad" if share >= 1 else "warn" if share >= 0.8 else "ok"
    return (
        f'<td><span class="meter {level}">{share:.0%}</span> of {_usd(limit.hard_nano)}'
        + (
            f' <span class="meta">(alert at {_usd(limit.soft_nano)})</span>'
            if limit.soft_nano
            else ""
        )
        + "</td>"
    )


def _today(usage: Usage) -> str:
    limits = {(lim.department, lim.period): lim for lim in usage.limits}
    departments = [d for d, _, _ in usage.today_by_department]
    departments += sorted(
        {lim.department for lim in usage.limits if lim.department} - set(departments)
    )
    total = sum(c for _, _, c in usage.today_by_department)
    calls = {d: n for d, n, _ in usage.today_by_department}
    costs = {d: c for d, _, c in usage.today_by_department}
    month = usage.month_by_department
    rows = "".join(
        f'<tr data-department="{_e(d)}"><th scope="row">{_e(d)}</th>'
        f'<td class="num">{calls.get(d, 0)}</td><td class="num">{_usd(costs.get(d, 0))}</td>'
        f"{_limit_cell(limits.get((d, 'day')), costs.get(d, 0))}"
        f"{_limit_cell(limits.get((d, 'month')), month.get(d, 0))}</tr>"
        for d in departments
    )
    site_row = (
        '<tr class="total"><th scope="row">Whole site</th>'
        f'<td class="num">{sum(calls.values())}</td><td class="num">{_usd(total)}</td>'
        f"{_limit_cell(limits.get(('', 'day')), total)}"
        f"{_limit_cell(limits.get(('', 'month')), sum(month.values()))}</tr>"
    )
    return (
        f'<section class="card" id="today"><h2>Today ({_e(usage.today)}, UTC): {_usd(total)}</h2>'
        '<table><thead><tr><th scope="col">Department</th><th scope="col" class="num">Calls</th>'
        '<th scope="col" class="num">Cost</th><th scope="col">Day budget</th>'
        f'<th scope="col">Month budget</th></tr></thead><tbody>{rows}{site_row}</tbody></table>'
        "</section>"
    )


def _chart(n: int, series: Series) -> str:
    names = list(series.costs)
    head = "".join(f'<th scope="col" class="num">{_e(name)}</th>' for name in names)
    body = "".join(
        f'<tr><th scope="row">{_e(day)}</th>'
        + "".join(f'<td class="num">{_usd(series.costs[name][i])}</td>' for name in names)
        + "</tr>"
        for i, day in enumerate(series.days)
        if any(series.costs[name][i] for name in names)
    )
    table = (
        f'<details><summary>The figures</summary><table><thead><tr><th scope="col">Day</th>{head}'
        f"</tr></thead><tbody>{body}</tbody></table></details>"
        if names
        else '<p class="empty">No model call in this period.</p>'
    )
    return (
        f'<section class="card chart-card"><h2>{_e(series.title)}</h2>'
        f'<div class="chart" id="chart-{n}" data-series="{n}" role="img"'
        f' aria-label="{_e(series.title)}"></div>{table}</section>'
    )


def _tiers(tiers: dict[str, int]) -> str:
    total = sum(tiers.values())
    if not total:
        return (
            '<section class="card"><h2>Routing</h2><p class="empty">No routed call.</p></section>'
        )
    rows = "".join(
        f'<tr><th scope="row">{_e(tier)}</th><td class="num">{n}</td>'
        f'<td class="num">{n / total:.0%}</td></tr>'
        for tier, n in sorted(tiers.items(), key=lambda kv: -kv[1])
    )
    return (
        '<section class="card"><h2>Routing share by tier</h2><table><thead><tr>'
        '<th scope="col">Tier</th><th scope="col" class="num">Calls</th>'
        '<th scope="col" class="num">Share</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></section>"
    )


def _data(usage: Usage) -> str:
    """The charts' data, as a JSON block the page's script reads (``<`` escaped: no markup)."""
    data = [
        {"title": s.title, "days": s.days,
         "series": [{"name": k, "usd": [c / 1e9 for c in v]} for k, v in s.costs.items()]}
        for s in usage.series
    ]  # fmt: skip
    text = json.dumps(data).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return f'<script type="application/json" id="usage-data">{text}</script>'


def usage_body(usage: Usage, base: str) -> str:
    """The page's main content; ``base``: the page's own path (for the period links)."""
    periods = " ".join(
        f'<a href="{_e(base)}?days={d}"' + (' aria-current="true"' if d == usage.days else "")
        + f">{d} days</a>"
        for d in PERIODS
    )  # fmt: skip
    charts = "".join(_chart(n, s) for n, s in enumerate(usage.series))
    return (
        f'<div class="title"><h1>Usage and budgets</h1><nav class="periods" aria-label="Period">'
        f'{periods}</nav></div>{_today(usage)}<div class="charts">{charts}</div>'
        f"{_tiers(usage.tiers)}{_data(usage)}"
    )
