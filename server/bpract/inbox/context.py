"""What an agent needs beside a transcript: who the visitor is (verified only), where they went,
what they did, which rules fired for them and which actions this conversation proposed or ran.

Every read is scoped by the site the caller resolved from the agent's organisation, and
bounded. Nothing secret is read: no action arguments or results, no identity hash; traits
only when the site verified the visitor, and never the traits a page sent in ``identify``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

import apsw

from bpract.actions import pending
from bpract.actions.storage import audit_events
from bpract.chat.storage import get_conversation
from bpract.store import Database
from bpract.triggers.fires import VisitorFire, visitor_fires
from bpract.triggers.rulesets import at_version
from bpract.visitors.storage import visitor_seen, visitor_signals, visitor_traits

__all__ = [
    "ActionStep",
    "PageStep",
    "RuleFired",
    "SignalSeen",
    "VisitorContext",
    "summary_of",
    "visitor_context",
]

PAGES: Final = 30
SIGNALS: Final = 30
FIRES: Final = 20
ACTIONS: Final = 30
_TEXT: Final = 200
_SUMMARY: Final = 120


@dataclass(frozen=True, slots=True, kw_only=True)
class PageStep:
    path: str
    title: str
    at_ms: int
    """The browser's clock, as sent."""


@dataclass(frozen=True, slots=True, kw_only=True)
class SignalSeen:
    name: str
    at_ms: int
    summary: str
    """A short description made from the signal's data (never an ``identify``'s traits)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RuleFired:
    rule_id: str
    name: str
    status: str
    reason: str
    at_ms: int
    message: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionStep:
    action: str
    event: str
    reason: str
    at_ms: int | None
    told: str = ""
    """What the visitor was told when the call ended (succeeded or failed events)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class VisitorContext:
    visitor: str
    user_id: str | None
    traits: Mapping[str, Any] = field(default_factory=dict)
    first_seen_ms: int | None = None
    last_seen_ms: int | None = None
    language: str | None = None
    """The conversation's language as last detected (device and time zone are not stored)."""
    journey: list[PageStep] = field(default_factory=list)
    """Newest first."""
    signals: list[SignalSeen] = field(default_factory=list)
    rules: list[RuleFired] = field(default_factory=list)
    actions: list[ActionStep] = field(default_factory=list)
    """Oldest first, as they happened."""
    now_ms: int = 0


def _short(value: object, limit: int = _TEXT) -> str:
    text = " ".join(str(value).split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _load(data: str) -> dict[str, Any]:
    try:
        loaded = json.loads(data)
    except ValueError:
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _num(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return f"{value:g}"


def _str(value: object) -> str:
    return value if isinstance(value, str) else ""


def summary_of(name: str, data: Mapping[str, Any]) -> str:
    """A short, safe line about a signal: only the fields known for its name."""
    path = _str(data.get("path"))
    on = f" on {path}" if path else ""
    parts: list[str]
    match name:
        case "dwell" | "idle":
            seconds = _num(data.get("seconds"))
            parts = [f"{seconds} s{on}" if seconds else on.strip()]
        case "scroll":
            percent = _num(data.get("percent"))
            parts = [f"{percent}%{on}" if percent else on.strip()]
        case "rage_click":
            target = _str(data.get("target"))
            parts = [f"at {target}" if target else "", on.strip()]
        case "exit_intent":
            parts = [on.strip()]
        case "cart":
            items = data.get("items")
            count = len(items) if isinstance(items, list) else 0
            value, currency = _num(data.get("value")), _str(data.get("currency"))
            worth = f"{value} {currency}".strip() if value else ""
            parts = [_str(data.get("action")), f"{count} item(s)" if count else "", worth]
        case "track":
            parts = [_str(data.get("name"))]
        case _:  # identify carries unverified traits; others are unknown: name and time only
            parts = []
    return _short(" ".join(p for p in parts if p), _SUMMARY)


def _iso_ms(at: str) -> int | None:
    try:
        return int(datetime.fromisoformat(at).timestamp() * 1000)
    except ValueError:
        return None


def _rule_names(
    conn: apsw.Connection, site_id: int, fires: list[VisitorFire]
) -> dict[tuple[str, int], str]:
    names: dict[tuple[str, int], str] = {}
    for version in {f.rule_version for f in fires}:
        stored = at_version(conn, site_id, version)
        rules = stored.body.get("rules") if stored is not None else None
        for rule in rules if isinstance(rules, list) else []:
            if isinstance(rule, dict) and isinstance(rule.get("name"), str) and rule["name"]:
                names[(str(rule.get("id")), version)] = rule["name"]
    return names


def _read(
    conn: apsw.Connection, site_id: int, visitor: str, conversation: str, now_ms: int
) -> VisitorContext:
    found = visitor_traits(conn, site_id, visitor)
    user_id, traits_json = found if found is not None else (None, None)
    traits = _load(traits_json) if traits_json and user_id is not None else {}
    seen = visitor_seen(conn, site_id, visitor)
    conv = get_conversation(conn, site_id, conversation)
    journey = []
    for _, at_ms, data in visitor_signals(conn, site_id, visitor, PAGES, page_views=True):
        page = _load(data)
        journey.append(PageStep(path=_short(_str(page.get("path")) or "/"),
                                title=_short(_str(page.get("title"))), at_ms=at_ms))  # fmt: skip
    signals = [
        SignalSeen(name=_short(name, 64), at_ms=at_ms, summary=summary_of(name, _load(data)))
        for name, at_ms, data in visitor_signals(conn, site_id, visitor, SIGNALS, page_views=False)
    ]
    fires = visitor_fires(conn, site_id, visitor, FIRES)
    names = _rule_names(conn, site_id, fires)
    rules = [
        RuleFired(
            rule_id=f.rule_id,
            name=names.get((f.rule_id, f.rule_version), ""),
            status=f.status,
            reason=_short(f.reason),
            at_ms=f.received_ms,
            message=None if f.message is None else _short(f.message, 400),
        )
        for f in fires
    ]
    actions = []
    for event in audit_events(conn, site_id, conversation=conversation, limit=ACTIONS):
        told = ""
        if event.pending and event.event in ("succeeded", "failed"):
            row = pending.get(conn, site_id, event.pending)
            told = _short(row.text) if row is not None and row.visitor == visitor else ""
        actions.append(ActionStep(action=event.action, event=event.event,
                                  reason=_short(event.reason), at_ms=_iso_ms(event.at),
                                  told=told))  # fmt: skip
    return VisitorContext(
        visitor=visitor, user_id=user_id, traits=traits,
        first_seen_ms=seen[0] if seen else None, last_seen_ms=seen[1] if seen else None,
        language=conv.lang if conv is not None and conv.visitor == visitor else None,
        journey=journey, signals=signals, rules=rules, actions=actions, now_ms=now_ms,
    )  # fmt: skip


async def visitor_context(
    db: Database, site_id: int, visitor: str, conversation: str, now_ms: int
) -> VisitorContext:
    """The context of ``visitor`` on site ``site_id`` and of their ``conversation``."""
    return await db.run(lambda conn: _read(conn, site_id, visitor, conversation, now_ms))
