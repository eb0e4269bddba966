"""A backtest's result as the rule form shows it, beside the draft it was run for."""

from __future__ import annotations

import html
from datetime import UTC, datetime

from bpract.triggers.backtest import BacktestResult

__all__ = ["backtest_panel"]

_OUTCOMES = (
    ("sent", "sent"), ("held_out", "held out"), ("capped", "capped"), ("cooldown", "cooling down"),
    ("budget", "over the interruption budget"), ("off_schedule", "off schedule"),
)  # fmt: skip


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%d %b %Y")


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _usd(nano: int) -> str:
    return f"${nano / 1e9:,.4f}"


def backtest_panel(result: BacktestResult, days: int) -> str:
    """What the draft would have done over the recorded sessions of the last ``days`` days."""
    outcomes = "".join(
        f"<li><strong>{result.outcomes.get(key, 0)}</strong> {label}</li>"
        for key, label in _OUTCOMES
        if result.outcomes.get(key, 0)
    )
    pages = "".join(
        f'<tr><th scope="row">{_e(p.path)}</th><td class="num">{p.fires}</td>'
        f'<td class="num">{p.visitors}</td></tr>'
        for p in result.top_pages
    )
    pages_table = (
        '<table><thead><tr><th scope="col">Page</th><th scope="col" class="num">Fires</th>'
        f'<th scope="col" class="num">Visitors</th></tr></thead><tbody>{pages}</tbody></table>'
        if pages
        else '<p class="empty">It would not have fired on any page.</p>'
    )
    live = "".join(
        f'<tr><th scope="row">{_e(r.rule)}</th><td class="num">{sum(r.recorded.values())}</td>'
        f'<td class="num">{r.recorded.get("sent", 0)}</td><td class="num">{r.visitors_sent}</td>'
        f'<td class="num">{r.replayed}</td></tr>'
        for r in result.live
    )
    live_table = (
        '<table><thead><tr><th scope="col">Live rule</th><th scope="col" class="num">Fires</th>'
        '<th scope="col" class="num">Sent</th><th scope="col" class="num">Visitors sent</th>'
        '<th scope="col" class="num">Found by the replay</th></tr></thead>'
        f"<tbody>{live}</tbody></table>"
        if live
        else '<p class="empty">No live rule fired in this period.</p>'
    )
    cost = result.cost
    cost_text = (
        "No model decides this site's rules: the rule's own message is sent, at no cost"
        if cost.basis == "no model"
        else f"{cost.decisions} decisions × {_usd(cost.per_decision_nano)}"
        f" (mean of this site's recorded decisions) = <strong>{_usd(cost.total_nano)}</strong>"
    )
    return (
        '<section class="card backtest" id="backtest" aria-labelledby="bt-h">'
        f'<h2 id="bt-h">Backtest: the last {days} days</h2>'
        f'<p class="meta">{_n(result.visitors, "visitor")}, {_n(result.sessions, "session")}'
        " recorded"
        f" from {_day(result.since_ms)} to {_day(result.until_ms)}, replayed through the"
        " browser's engine and the server's policy.</p>"
        f'<p class="big">It would have fired for <strong>{result.fired_visitors}</strong>'
        f" visitor{'s' if result.fired_visitors != 1 else ''} ({_n(result.fires, 'fire')}) and"
        f" reached <strong>{result.sent_visitors}</strong>.</p>"
        f'<ul class="outcomes">{outcomes}</ul>'
        f"<h3>Pages</h3>{pages_table}"
        f"<h3>Beside the live rules</h3>{live_table}"
        f"<p>{result.overlap_visitors} of the visitors it would reach got another rule's"
        " message in the same period.</p>"
        f"<h3>Model cost</h3><p>{cost_text}.</p>"
        '<p class="meta">What a replay cannot know: docs/rules.md, "Backtest".</p></section>'
    )
