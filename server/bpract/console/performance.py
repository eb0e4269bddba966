"""The performance page: each rule over a chosen period — fires by outcome, what visitors did
with its messages, conversions of everyone assigned to it against everyone held out (intention
to treat), the lift with its 95 % interval, the split's sample-ratio check, and how many
visitors the fixed-horizon test still needs (docs/rules.md, "Judging a rule")."""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Final

from bpract.triggers.lift import Estimate
from bpract.triggers.report import Conversion, RuleReport

__all__ = ["DAYS", "MDES", "performance_body"]

DAYS: Final = (7, 30, 90)
MDES: Final = (5, 10, 20, 50)
_OUTCOMES: Final = ("shown", "opened", "replied", "clicked", "dismissed")


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _pct(value: float) -> str:
    return f"{value * 100:+.1f} %"


def _rate(c: Conversion) -> str:
    rate = "–" if c.rate is None else f"{c.rate * 100:.1f} %"
    return f"{c.converted} of {c.visitors} ({rate})"


def _interval(e: Estimate | None) -> str:
    if e is None:
        return '<span class="meta">not enough data</span>'
    sure = e.low > 0 or e.high < 0
    cls = "ok" if e.low > 0 else "bad" if e.high < 0 else "muted"
    return (
        f'<strong class="{cls}">{_pct(e.estimate)}</strong> <span class="meta">'
        f"({e.level:.0%} interval {_pct(e.low)} to {_pct(e.high)})"
        f"{'' if sure else ', includes no change'}</span>"
    )


def _card(r: RuleReport) -> str:
    fires = (
        ", ".join(f"{n} {_e(k.replace('_', ' '))}" for k, n in sorted(r.fires.items())) or "none"
    )
    outcomes = ", ".join(f"{r.outcomes.get(k, 0)} {k}" for k in _OUTCOMES if r.outcomes.get(k))
    srm = '<span class="meta">no holdout</span>'
    if r.srm is not None:
        srm = (
            f'<strong class="bad">sample ratio mismatch</strong> (p {r.srm.p_value:.1e}):'
            " the split is not what the holdout asks; do not trust the lift"
            if r.srm.flagged
            else f'<span class="ok">healthy</span> <span class="meta">(p {r.srm.p_value:.2f},'
            f" {r.srm.expected_control_share:.0%} held out expected)</span>"
        )
    assigned = r.treated.visitors + r.control.visitors
    plan = (
        f"{assigned} of {r.sample_size_needed} visitors for a {r.relative_mde:.0%} lift"
        if r.sample_size_needed
        else "no plan yet (needs conversions in the held-out group)"
    )
    return (
        f'<section class="card rule-perf" data-rule="{_e(r.rule)}"><h2>{_e(r.rule)}</h2>'
        f'<p class="verdict">{_e(r.verdict)}</p><dl>'
        f"<dt>Fires</dt><dd>{fires}</dd>"
        f"<dt>Engagement</dt><dd>{outcomes or 'none yet'}</dd>"
        f"<dt>Converted, assigned to it</dt><dd>{_rate(r.treated)}</dd>"
        f"<dt>Converted, held out</dt><dd>{_rate(r.control)}</dd>"
        f"<dt>Relative lift</dt><dd>{_interval(r.lift)}</dd>"
        f"<dt>Difference</dt><dd>{_interval(r.difference)}</dd>"
        f"<dt>Split</dt><dd>{srm}</dd>"
        f"<dt>Sample</dt><dd>{_e(plan)}</dd>"
        f"<dt>Decision cost</dt><dd>${r.decider_cost_nano / 1e9:,.4f}</dd></dl></section>"
    )


def performance_body(reports: Sequence[RuleReport], base: str, days: int, mde: int) -> str:
    """The page's content; ``base``: its own path, for the period and effect-size links."""
    periods = " ".join(
        f'<a href="{_e(base)}?days={d}&amp;mde={mde}"'
        + (' aria-current="true"' if d == days else "") + f">{d} days</a>"
        for d in DAYS
    )  # fmt: skip
    effects = " ".join(
        f'<a href="{_e(base)}?days={days}&amp;mde={m}"'
        + (' aria-current="true"' if m == mde else "") + f">{m} %</a>"
        for m in MDES
    )  # fmt: skip
    cards = "".join(_card(r) for r in reports) or '<p class="empty">No rule yet.</p>'
    return (
        '<div class="title"><h1>Rule performance</h1>'
        f'<nav class="periods" aria-label="Period">{periods}</nav></div>'
        '<p class="meta">Everyone a rule fired for counts, from their first fire in the'
        " period: sent or not (capped, cooling down, over the budget) against everyone held"
        " out. A fixed-horizon test: read the lift once the sample is reached. Plan for a"
        f' lift of <nav class="periods inline" aria-label="Effect size">{effects}</nav></p>'
        f'<div class="perf">{cards}</div>'
    )
