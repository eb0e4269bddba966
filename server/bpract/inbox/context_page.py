"""The context panel beside a transcript: every value escaped, times said as "3 min ago"."""

from __future__ import annotations

import json
from typing import Final

from bpract.inbox.context import VisitorContext
from bpract.inbox.pages import _e, waited

__all__ = ["context_panel"]

_EVENTS: Final = {
    "proposed": "proposed", "confirmed": "confirmed by the visitor", "declined": "declined",
    "expired": "expired unanswered", "refused": "refused", "succeeded": "ran", "failed": "failed",
}  # fmt: skip
_SENT: Final = frozenset({"sent"})
_FAILED: Final = frozenset({"failed", "refused"})


def _ago(at_ms: int | None, now_ms: int) -> str:
    if at_ms is None:
        return ""
    if at_ms > now_ms:
        return '<span class="when">just now</span>'
    return f'<span class="when">{waited(now_ms - at_ms)} ago</span>'


def _section(title: str, items: list[str], empty: str) -> str:
    listed = f'<ul class="steps">{"".join(items)}</ul>' if items else f'<p class="none">{empty}</p>'
    return f"<section><h3>{_e(title)}</h3>{listed}</section>"


def _visitor(ctx: VisitorContext, now_ms: int) -> str:
    rows = []
    if ctx.user_id is not None:
        rows.append(f"<dt>User id</dt><dd>{_e(ctx.user_id)}</dd>")
        for key, value in ctx.traits.items():
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            rows.append(f"<dt>{_e(key)}</dt><dd>{_e(shown)}</dd>")
    if ctx.first_seen_ms is not None:
        rows.append(f"<dt>First seen</dt><dd>{_ago(ctx.first_seen_ms, now_ms)}</dd>")
    if ctx.last_seen_ms is not None:
        rows.append(f"<dt>Last seen</dt><dd>{_ago(ctx.last_seen_ms, now_ms)}</dd>")
    if ctx.language:
        rows.append(f"<dt>Language</dt><dd>{_e(ctx.language)}</dd>")
    who = (
        '<p><span class="badge">verified</span> by the site</p>'
        if ctx.user_id is not None
        else '<p class="none">Not identified by the site.</p>'
    )
    listed = f"<dl>{''.join(rows)}</dl>" if rows else ""
    return f'<section class="who-is"><h2>Visitor</h2>{who}{listed}</section>'


def _journey(ctx: VisitorContext, now_ms: int) -> str:
    items = [
        f'<li><span class="path">{_e(p.path)}</span>{_ago(p.at_ms, now_ms)}'
        + (f'<span class="sub">{_e(p.title)}</span>' if p.title else "")
        + "</li>"
        for p in ctx.journey
    ]
    return _section("Journey", items, "No page views stored.")


def _signals(ctx: VisitorContext, now_ms: int) -> str:
    items = [
        f'<li><span class="name">{_e(s.name)}</span>{_ago(s.at_ms, now_ms)}'
        + (f'<span class="sub">{_e(s.summary)}</span>' if s.summary else "")
        + "</li>"
        for s in ctx.signals
    ]
    return _section("Signals", items, "No other signals.")


def _rules(ctx: VisitorContext, now_ms: int) -> str:
    items = []
    for r in ctx.rules:
        label = f"{r.name} ({r.rule_id})" if r.name else r.rule_id
        tone = "ok" if r.status in _SENT else "off"
        reason = f'<span class="sub">{_e(r.reason)}</span>' if r.reason else ""
        message = f'<q class="said">{_e(r.message)}</q>' if r.message else ""
        items.append(
            f'<li><span class="name">{_e(label)}</span>{_ago(r.at_ms, now_ms)}'
            f'<span class="status {tone}">{_e(r.status.replace("_", " "))}</span>'
            f"{reason}{message}</li>"
        )
    return _section("Rules fired", items, "No rule fired for this visitor.")


def _actions(ctx: VisitorContext, now_ms: int) -> str:
    items = []
    for a in ctx.actions:
        tone = "bad" if a.event in _FAILED else "ok" if a.event == "succeeded" else "off"
        reason = f'<span class="sub">{_e(a.reason)}</span>' if a.reason else ""
        told = f'<q class="said">{_e(a.told)}</q>' if a.told else ""
        items.append(
            f'<li><span class="name">{_e(a.action)}</span>{_ago(a.at_ms, now_ms)}'
            f'<span class="status {tone}">{_e(_EVENTS.get(a.event, a.event))}</span>'
            f"{reason}{told}</li>"
        )
    return _section("Actions", items, "No action in this conversation.")


def context_panel(ctx: VisitorContext, now_ms: int) -> str:
    """The ``<aside class="context">`` beside a transcript."""
    return (
        '<aside class="card context" aria-label="Context">'
        f"{_visitor(ctx, now_ms)}{_journey(ctx, now_ms)}{_signals(ctx, now_ms)}"
        f"{_rules(ctx, now_ms)}{_actions(ctx, now_ms)}</aside>"
    )
