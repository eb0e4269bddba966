"""The inbox's HTML: every piece of text escaped here.

Every page works without script (forms post, links navigate); ``inbox.js`` (served from
``/inbox/static``, the only script the pages' policy allows) makes them live: the queue
updates itself, a conversation's messages and typing appear as they happen, the composer
sends over the inbox socket.  What the script needs is in ``data-`` attributes of ``<body>``.
"""

from __future__ import annotations

import html
import json
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final
from urllib.parse import quote

from bpract.chat.storage import Turn
from bpract.inbox.queue import ConversationView, QueueEntry, TicketEntry, Visitor
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


def _data(data: dict[str, str]) -> str:
    return "".join(f' data-{k}="{_e(v)}"' for k, v in data.items())


def _page(
    title: str, body: str, *, agent: Agent | None = None, csrf: str | None = None,
    data: dict[str, str] | None = None,
) -> str:  # fmt: skip
    who, script = "", ""
    if agent is not None and csrf is not None:
        who = (
            f'<div class="who"><span class="presence" id="presence" hidden></span>'
            '<button type="button" class="link" id="notify" hidden>Allow notifications</button>'
            f"<span>{_e(agent.display_name)}</span>"
            '<form method="post" action="/inbox/sign-out">'
            f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
            '<button type="submit" class="link">Sign out</button></form></div>'
        )
        script = '<script src="/inbox/static/inbox.js" defer></script>'
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)} · BPract inbox</title>"
        f'<link rel="stylesheet" href="/inbox/static/inbox.css">{script}</head>'
        f"<body{_data(data or {})}>"
        f'<header><a class="brand" href="/inbox">BPract inbox</a>{who}</header>'
        f"<main>{body}</main></body></html>"
    )


def _hidden(csrf: str) -> str:
    return f'<input type="hidden" name="csrf" value="{_e(csrf)}">'


def _button_form(action: str, csrf: str, label: str, *, extra: str = "", cls: str = "") -> str:
    return (
        f'<form method="post" action="{_e(action)}" class="inline">{_hidden(csrf)}{extra}'
        f'<button type="submit"{f" class={chr(34)}{cls}{chr(34)}" if cls else ""}>'
        f"{_e(label)}</button></form>"
    )


def sign_in_page(
    csrf: str, *, email: str = "", notice: str | None = None, then: str = "/inbox"
) -> str:
    """The sign-in form; ``notice`` says why the last attempt or session ended; ``then``:
    where to go once signed in (the inbox, or the console page that sent them here)."""
    shown = f'<p class="notice" role="alert">{_e(notice)}</p>' if notice else ""
    body = (
        '<section class="card narrow"><h1>Sign in</h1>'
        f"{shown}"
        '<form method="post" action="/inbox/sign-in">'
        f'<input type="hidden" name="csrf" value="{_e(csrf)}">'
        f'<input type="hidden" name="then" value="{_e(then)}">'
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
        mark = ' <span class="badge for-you">for you</span>' if item.for_me else ""
        rows.append(
            f'<li class="waiting" data-conversation="{_e(item.conversation)}">'
            f'<a href="/inbox/c/{_e(item.conversation)}">'
            f'<span class="line">{_visitor_line(item.visitor)}{mark}'
            f'<span class="wait">waiting {waited(now_ms - item.since_ms)}</span></span>'
            f'<span class="preview">{preview}</span>{why}'
            f'<span class="meta">{_e(item.site)}{team} · since {_at(item.since_ms)}</span></a></li>'
        )
    return "".join(rows)


def _mine_rows(items: Iterable[QueueEntry], now_ms: int) -> str:
    return "".join(
        f'<li class="mine" data-conversation="{_e(item.conversation)}">'
        f'<a href="/inbox/c/{_e(item.conversation)}">'
        f'<span class="line">{_visitor_line(item.visitor)}'
        f'<span class="wait">active {waited(now_ms - item.since_ms)} ago</span></span>'
        f'<span class="meta">{_e(item.site)}</span></a></li>'
        for item in items
    )


_DELIVERY: Final = {
    "pending": "not delivered yet",
    "delivered": "sent to the team's address",
    "failed": "delivery failed",
}


def _ticket_rows(items: Iterable[TicketEntry]) -> str:
    rows = []
    for t in items:
        mail = f"mailto:{quote(t.email, safe='@')}?subject={quote('Re: your question')}"
        chat = (
            f' · <a href="/inbox/c/{_e(t.conversation)}">conversation</a>' if t.conversation else ""
        )
        lang = f" · {_e(t.lang)}" if t.lang else ""
        rows.append(
            f'<li class="ticket" data-ticket="{_e(t.id)}" data-delivery="{_e(t.delivery)}">'
            f'<span class="line"><a class="person" href="{_e(mail)}">{_e(t.email)}</a>'
            f'<span class="wait">{_e(_DELIVERY.get(t.delivery, t.delivery))}</span></span>'
            f'<span class="preview">{_e(t.question)}</span>'
            f'<span class="meta">{_e(t.site)}{lang} · {_at(t.created_ms)}{chat}</span></li>'
        )
    return "".join(rows)


def queue_page(
    agent: Agent, csrf: str, items: list[QueueEntry], now_ms: int, *,
    mine: list[QueueEntry] | None = None, tickets: list[TicketEntry] | None = None,
) -> str:  # fmt: skip
    """The agent's conversations, those waiting for a person (longest waiting first), and the
    offline tickets visitors left (newest first)."""
    if items:
        listing = f'<ol class="queue" id="waiting">{_queue_rows(items, now_ms)}</ol>'
    else:
        listing = '<p class="empty" id="waiting">No one is waiting for a person.</p>'
    count = f"{len(items)} waiting" if items else "nobody waiting"
    yours = ""
    if mine:
        yours = (
            '<section class="card"><div class="title"><h1>Yours</h1>'
            f'<span class="muted">{len(mine)} open</span></div>'
            f'<ol class="queue">{_mine_rows(mine, now_ms)}</ol></section>'
        )
    body = (
        f"{yours}"
        f'<section class="card"><div class="title"><h1>Waiting</h1>'
        f'<span class="muted" id="count">{count} · <a href="/inbox">Refresh</a></span></div>'
        f"{listing}</section>"
    )
    if tickets:
        body += (
            '<section class="card" id="tickets"><div class="title"><h1>Offline tickets</h1>'
            f'<span class="muted">{len(tickets)} · newest first</span></div>'
            f'<ol class="queue">{_ticket_rows(tickets)}</ol></section>'
        )
    data = {"page": "queue", "waiting": str(len(items))}
    return _page("Waiting", body, agent=agent, csrf=csrf, data=data)


def _turn(turn: Turn, visitor: Visitor) -> str:
    if turn.role == "visitor":
        who = visitor.label
    elif turn.role == "agent" and turn.author:
        who = turn.author
    else:
        who = _ROLES.get(turn.role, turn.role)
    side = "visitor" if turn.role == "visitor" else turn.role
    return (
        f'<li class="turn by-{_e(side)}" data-id="{_e(turn.id)}">'
        f'<div class="from">{_e(who)} · {_at(turn.at_ms)}</div>'
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


def _status(view: ConversationView, agent: Agent) -> str:
    if view.status == "resolved":
        return "resolved"
    if view.status != "human":
        return "with the assistant"
    if view.owner_agent is None:
        team = f" ({view.department})" if view.department else ""
        return f"waiting for a person{team}"
    return "with you" if view.owner_agent == agent.id else f"with {view.owner_name}"


def _controls(view: ConversationView, agent: Agent, csrf: str) -> str:
    """What the agent may do with the conversation now."""
    base = f"/inbox/c/{view.conversation}"
    if view.status == "resolved":
        return ""
    if view.owner_agent is None:
        return f'<div class="controls">{_button_form(base + "/take", csrf, "Take over")}</div>'
    mine = view.owner_agent == agent.id
    if not mine and agent.role != "supervisor":
        return ""
    to_agent = "".join(
        f'<option value="{a.id}">{_e(a.display_name)}</option>' for a in view.colleagues
    )
    departments = sorted(
        {d for a in view.colleagues for d in a.departments} | set(agent.departments)
    )
    to_team = "".join(f'<option value="{_e(d)}">{_e(d)}</option>' for d in departments)
    transfer = ""
    if to_agent:
        transfer += (
            f'<form method="post" action="{_e(base)}/transfer" class="inline">{_hidden(csrf)}'
            '<label class="sr" for="to-agent">Transfer to</label>'
            f'<select id="to-agent" name="agent">{to_agent}</select>'
            '<button type="submit">Transfer</button></form>'
        )
    transfer += (
        f'<form method="post" action="{_e(base)}/release" class="inline">{_hidden(csrf)}'
        '<input type="hidden" name="to" value="queue">'
        '<label class="sr" for="to-team">Team</label>'
        f'<select id="to-team" name="department">{to_team}</select>'
        '<button type="submit">Back to queue</button></form>'
    )
    bot = '<input type="hidden" name="to" value="bot">'
    done = '<input type="hidden" name="to" value="resolved">'
    return (
        '<div class="controls">'
        f"{_button_form(base + '/release', csrf, 'Hand back to the assistant', extra=bot)}"
        f"{_button_form(base + '/release', csrf, 'Resolve', extra=done, cls='primary')}"
        f"{transfer}</div>"
    )


def _composer(view: ConversationView, agent: Agent, csrf: str) -> str:
    if view.status != "human" or view.owner_agent != agent.id:
        return ""
    return (
        f'<form method="post" action="/inbox/c/{_e(view.conversation)}/say" class="composer"'
        f' id="composer">{_hidden(csrf)}'
        # one id per page shown: sending this form twice stores one message, two messages
        # with the same words from two pages are two
        f'<input type="hidden" name="id" value="{secrets.token_urlsafe(12)}">'
        '<label class="sr" for="reply">Reply to the visitor</label>'
        '<textarea id="reply" name="text" rows="3" maxlength="4000" required'
        ' placeholder="Write to the visitor…"></textarea>'
        '<button type="submit" class="primary">Send</button></form>'
    )


def _notes(view: ConversationView, csrf: str) -> str:
    items = "".join(
        f'<li><div class="from">{_e(n.author)} · {_at(n.at_ms)}</div>'
        f'<div class="text">{_e(n.text)}</div></li>'
        for n in view.notes
    )
    listing = f'<ol class="notes">{items}</ol>' if items else '<p class="muted">No notes yet.</p>'
    return (
        '<section class="card notes-card"><h2>Private notes</h2>'
        '<p class="muted">Only your team sees these; the visitor never does.</p>'
        f"{listing}"
        f'<form method="post" action="/inbox/c/{_e(view.conversation)}/notes">{_hidden(csrf)}'
        '<label class="sr" for="note">Note</label>'
        '<textarea id="note" name="text" rows="2" maxlength="4000" required'
        ' placeholder="A note for the team…"></textarea>'
        '<button type="submit">Add note</button></form></section>'
    )


def conversation_page(
    agent: Agent, csrf: str, view: ConversationView, *, notice: str | None = None,
    context: str = "",
) -> str:  # fmt: skip
    """One conversation: its transcript, what the agent may do, notes, who the visitor is."""
    turns = "".join(_turn(t, view.visitor) for t in view.turns)
    shown = f'<p class="notice" role="status">{_e(notice)}</p>' if notice else ""
    why = (
        f'<p class="reason">{_e(view.reason)}</p>' if view.reason and view.status == "human" else ""
    )
    # the context panel starts with who the visitor is; without it, the identity alone
    visitor = context or f'<aside class="card"><h2>Visitor</h2>{_identity(view.visitor)}</aside>'
    owner = (
        "me" if view.owner_agent == agent.id else "none" if view.owner_agent is None else "other"
    )
    body = (
        '<p class="crumbs"><a href="/inbox">← Inbox</a></p><div class="split">'
        f'<section class="card transcript"><h1>{_visitor_line(view.visitor)}</h1>'
        f'<p class="muted">{_e(view.site)} · <span id="status">{_e(_status(view, agent))}</span>'
        f" · started {_at(view.started_ms)}</p>{why}{shown}"
        f"{_controls(view, agent, csrf)}"
        '<p class="muted page-line" id="visitor-page" hidden></p>'
        f'<ol class="turns" id="turns" aria-live="polite">{turns}</ol>'
        '<p class="typing" id="typing" aria-live="polite" hidden></p>'
        f"{_composer(view, agent, csrf)}</section>"
        f'<div class="side">{visitor}{_notes(view, csrf)}</div></div>'
    )
    data = {
        "page": "conversation", "conversation": view.conversation, "owner": owner,
        "status": view.status, "visitor": view.visitor.label, "me": agent.display_name,
    }  # fmt: skip
    return _page(view.visitor.label, body, agent=agent, csrf=csrf, data=data)
