"""The inbox's HTML: every piece of text escaped here, pages that need no script at all."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from bpract.chat.storage import Turn
from bpract.inbox.queue import ConversationView, QueueEntry, Visitor
from bpract.inbox.storage import Agent

__all__ = [
    "conversation_page",
    "message_page",
    "queue_page",
    "sign_in_page",
    "waited",
]

_ROLES: Final = {"bot": "Bot", "outreach": "Bot (outreach)", "agent": "Agent"}


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _at(ms: int) -> str:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return (
        f'<time datetime="{moment.isoformat(timespec="seconds")}">'
        f"{moment.strftime('%d %b %H:%M')} UTC</time>"
    )


def waited(ms: int) -> str:
    """A wait as people say it: ``40 s``, ``12 min``, ``3 h 5 min``, ``2 d 4 h``."""
    seconds = max(0, ms // 1000)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours} h" if hours else f"{days} d"


def _page(title: str, body: str, *, agent: Agent | None = None, csrf: str | None = None) -> str:
    who = ""
    if agent is not None and csrf is not None:
        who = (
            f'<div class="who"><span>{_e(agent.display_name)}</span>'
            '<form method="post" action="/inbox/sign-out">'
            f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
            '<button type="submit" class="link">Sign out</button></form></div>'
        )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} · BPract inbox</title>"
        '<link rel="stylesheet" href="/inbox/static/inbox.css"></head><body>'
        f'<header><a class="brand" href="/inbox">BPract inbox</a>{who}</header>'
        f"<main>{body}</main></body></html>"
    )


def sign_in_page(csrf: str, *, email: str = "", notice: str | None = None) -> str:
    """The sign-in form; ``notice`` says why the last attempt or session ended."""
    shown = f'<p class="notice" role="alert">{_e(notice)}</p>' if notice else ""
    body = (
        '<section class="card narrow"><h1>Sign in</h1>'
        f"{shown}"
        '<form method="post" action="/inbox/sign-in">'
        f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
        '<label for="email">Email</label>'
        f'<input id="email" name="email" type="email" autocomplete="username" required'
        f' value="{_e(email)}">'
        '<label for="password">Password</label>'
        '<input id="password" name="password" type="password"'
        ' autocomplete="current-password" required>'
        '<button type="submit">Sign in</button></form></section>'
    )
    return _page("Sign in", body)


def message_page(title: str, text: str, *, agent: Agent | None = None, csrf: str | None = None,
                 back: str = "/inbox") -> str:  # fmt: skip
    """A page that only says something (refused, not found) with a way back."""
    body = (
        f'<section class="card narrow"><h1>{_e(title)}</h1><p>{_e(text)}</p>'
        f'<p><a href="{_e(back)}">Back</a></p></section>'
    )
    return _page(title, body, agent=agent, csrf=csrf)


def _visitor_line(visitor: Visitor) -> str:
    verified = ' <span class="badge">verified</span>' if visitor.user_id is not None else ""
    return f'<span class="person"><span class="visitor">{_e(visitor.label)}</span>{verified}</span>'


def _queue_rows(items: Iterable[QueueEntry], now_ms: int) -> str:
    rows = []
    for item in items:
        preview = _e(item.preview) if item.preview else '<span class="muted">(no message)</span>'
        team = f" · {_e(item.department)}" if item.department else ""
        why = f'<span class="reason">{_e(item.reason)}</span>' if item.reason else ""
        rows.append(
            '<li class="waiting">'
            f'<a href="/inbox/c/{_e(item.conversation)}">'
            f'<span class="line">{_visitor_line(item.visitor)}'
            f'<span class="wait">waiting {waited(now_ms - item.since_ms)}</span></span>'
            f'<span class="preview">{preview}</span>{why}'
            f'<span class="meta">{_e(item.site)}{team} · since {_at(item.since_ms)}</span></a></li>'
        )
    return "".join(rows)


def queue_page(agent: Agent, csrf: str, items: list[QueueEntry], now_ms: int) -> str:
    """The conversations waiting for a person, longest waiting first."""
    if items:
        listing = f'<ol class="queue">{_queue_rows(items, now_ms)}</ol>'
    else:
        listing = '<p class="empty">No one is waiting for a person.</p>'
    count = f"{len(items)} waiting" if items else "nobody waiting"
    body = (
        f'<section class="card"><div class="title"><h1>Waiting</h1>'
        f'<span class="muted">{count} · <a href="/inbox">Refresh</a></span></div>'
        f"{listing}</section>"
    )
    return _page("Waiting", body, agent=agent, csrf=csrf)


def _turn(turn: Turn, visitor: Visitor) -> str:
    who = visitor.label if turn.role == "visitor" else _ROLES.get(turn.role, turn.role)
    side = "visitor" if turn.role == "visitor" else turn.role
    return (
        f'<li class="turn by-{_e(side)}"><div class="from">{_e(who)} · {_at(turn.at_ms)}</div>'
        f'<div class="text">{_e(turn.text)}</div></li>'
    )


def _identity(visitor: Visitor) -> str:
    if visitor.user_id is None:
        return '<p class="muted">Not identified by the site.</p>'
    rows = [f"<dt>User id</dt><dd>{_e(visitor.user_id)}</dd>"]
    for key, value in visitor.traits.items():
        shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
        rows.append(f"<dt>{_e(key)}</dt><dd>{_e(shown)}</dd>")
    return f'<p><span class="badge">verified</span> by the site</p><dl>{"".join(rows)}</dl>'


def conversation_page(agent: Agent, csrf: str, view: ConversationView, context: str = "") -> str:
    """One conversation: its transcript, and beside it who the visitor is (the ``context``
    panel, when given, in place of the identity alone)."""
    turns = "".join(_turn(t, view.visitor) for t in view.turns)
    status = "waiting for a person" if view.status == "human" else "with the bot"
    aside = context or f'<aside class="card"><h2>Visitor</h2>{_identity(view.visitor)}</aside>'
    body = (
        '<p class="crumbs"><a href="/inbox">← Waiting</a></p><div class="split">'
        f'<section class="card transcript"><h1>{_visitor_line(view.visitor)}</h1>'
        f'<p class="muted">{_e(view.site)} · {status} · started {_at(view.started_ms)}</p>'
        f'<ol class="turns">{turns}</ol></section>'
        f"{aside}</div>"
    )
    return _page(view.visitor.label, body, agent=agent, csrf=csrf)
