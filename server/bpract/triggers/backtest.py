"""Backtest a draft rule: replay recorded sessions through the browser's engine, apply policy.

::

    async def backtest(
        db: Database, site_id: int, rule: Rule, *, days: float, now_ms: int,
        ruleset: Ruleset, price_per_decision_nano: int | None = None, top: int = 10,
    ) -> BacktestResult

``ruleset`` is the site's live ruleset (its policy and enabled rules); ``rule`` the draft,
replayed as if enabled. A draft with the id of a live rule stands for an edit of it: it
replaces that rule in the replay and in policy. ``price_per_decision_nano`` overrides the
mean model cost per decision recorded on the site; nothing is written to ``db``.

What is replayed: every stream (tab) of the site with a frame received in the last ``days``
(server clock), a visitor's streams in the order they began, each through a fresh
``bpract_client`` :class:`~bpract_client.engine.Engine` that starts from the engine state the
previous stream left (as ``localStorage`` carries it), with the draft and the live rules.

- A visitor whose browser could not run the engine (``engine: "server"``) sent raw ``event``
  frames: they are fed as recorded (identities only when their hash verifies, as the socket
  does), so everything the engine sees is reproduced, chat-open and typing suppression too.
- A browser engine's stream holds its ``signal`` frames, not the raw events; the events are
  rebuilt from them. Exact: page views (URL, referrer, hence UTM source, referrer host,
  new/returning and sessions), scroll milestones, exit intents, rage-click bursts, cart
  changes (hence ``cart_churn``), ``track`` and ``identify``; ``visits`` across sessions
  within the period. Attentive dwell is known at its milestones (10, 30, 60, 120, 300 s):
  each is reached at its recorded time and the dwell stays there until the next one, so a
  threshold between two milestones is reached only if the next one was (an undercount).
  Scroll thresholds between milestones (25, 50, 75, 100) likewise.

What is not reproduced: dwell and scroll between milestones (above); ``idle_seconds`` (the
replay's activity is the recorded one plus what dwell implies, so idle is an estimate);
suppression while the chat is open or a field has focus for browser engines (not recorded);
a tab hidden or blurred; the ``device`` of a stream no recorded fire names
(``streams_without_device``: a ``device`` condition fails there); an identity given in
``hello`` (only the visitor's latest verified user id and traits are stored: they apply from
the start when no ``identify`` explains them); history before the period (``visits`` and
new/returning count from its start); the cart emptied by a purchase; ``with_person`` (the
conversation's past state); whether the decider would have engaged (a fire that passes
policy counts as sent). Live rules' outcomes are as recorded: the draft's sends do not take
their budget.

Policy is the server's (:mod:`bpract.triggers.policy`): schedule, holdout, per-rule cap,
cooldown and the site's interruption budget, checked at the time the server would have
received each fire (the browser time plus the stream's recorded skew) against a ledger in
memory that holds the visitor's recorded fires and the draft's own hypothetical sends.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections import Counter, defaultdict
from datetime import UTC, datetime
from typing import Any, Literal

import apsw
import msgspec

from bpract.llm.ledger import Ledger
from bpract.sites import get_site, verify_identity
from bpract.store import Database
from bpract.triggers.fires import NewFire, RecordedFire, record_fire, visitor_fire_log
from bpract.triggers.fires import what_if_ledger as _ledger
from bpract.triggers.policy import check_windows, is_held_out, schedule_refusal
from bpract.triggers.replay import EngineFire, Identity, replay_stream
from bpract.visitors.storage import (
    RecordedFrame,
    recorded_frames,
    recorded_visitors,
    visitor_traits,
)
from bpract_client.rules import Rule, Ruleset, engine_view, ruleset_from_dict

__all__ = ["BacktestResult", "CostEstimate", "DraftFire", "LiveRule", "PageFires", "backtest"]

_DAY_MS = 86_400_000
_TASK = "trigger_decision"
_OUTCOMES = ("sent", "held_out", "off_schedule", "capped", "cooldown", "budget")


class PageFires(msgspec.Struct, frozen=True, kw_only=True):
    path: str
    fires: int
    visitors: int


class DraftFire(msgspec.Struct, frozen=True, kw_only=True):
    """One fire of the draft in the replay, and what policy would have made of it."""

    visitor: str
    stream: str
    page: str
    at_ms: int
    server_ms: int
    status: str
    """``sent`` (passed policy: the decider would decide it), ``held_out``, ``off_schedule``,
    ``capped``, ``cooldown`` or ``budget``."""


class LiveRule(msgspec.Struct, frozen=True, kw_only=True):
    """A live rule over the same sessions: its recorded fires, and the replay's."""

    rule: str
    recorded: dict[str, int]
    """Recorded fires by stored status."""
    visitors_sent: int
    replayed: int
    """Fires of the rule in the replay (before policy): set against ``recorded``, how
    faithful the replay is on this site."""


class CostEstimate(msgspec.Struct, frozen=True, kw_only=True):
    decisions: int
    """Fires that would reach the decider (those ``sent`` by policy)."""
    per_decision_nano: int
    total_nano: int
    basis: Literal["given", "ledger", "no model"]
    """``ledger``: the mean recorded ``trigger_decision`` cost on the site in the period;
    ``no model``: none recorded (the rule's own message is sent, free)."""


class BacktestResult(msgspec.Struct, frozen=True, kw_only=True):
    rule: str
    since_ms: int
    until_ms: int
    visitors: int
    streams: int
    sessions: int
    streams_without_device: int
    fired_visitors: int
    """Visitors the draft fired for (before policy)."""
    fires: int
    outcomes: dict[str, int]
    sent: int
    held_out: int
    capped: int
    budget: int
    sent_visitors: int
    top_pages: list[PageFires]
    live: list[LiveRule]
    overlap_visitors: int
    """Visitors the draft would send to who were sent another live rule's message."""
    cost: CostEstimate
    fire_log: list[DraftFire]


@dataclasses.dataclass(slots=True)
class _Visitor:
    """One visitor's replay: the draft's fires with their outcome, the live rules' fires."""

    streams: int = 0
    sessions: int = 0
    without_device: int = 0
    draft: list[DraftFire] = dataclasses.field(default_factory=list)
    replayed: Counter[str] = dataclasses.field(default_factory=Counter)
    recorded: list[RecordedFire] = dataclasses.field(default_factory=list)


def _identifies(frame: RecordedFrame) -> bool:
    if frame.t == "identify":
        return True
    if frame.t not in ("signal", "event"):
        return False
    body = json.loads(frame.body)
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    return body.get("name") == "identify" or event.get("k") == "identify"


def _identity(
    frames: list[RecordedFrame], stored: tuple[str | None, str | None] | None
) -> Identity | None:
    """The stored identity, when no recorded ``identify`` explains it (it came in hello)."""
    if stored is None or stored[0] is None:
        return None
    if any(_identifies(f) for f in frames):
        return None
    traits = json.loads(stored[1]) if stored[1] else {}
    return stored[0], traits if isinstance(traits, dict) else {}


def _replay(
    frames: list[RecordedFrame], identity: Identity | None, engine_rules: dict[str, Any],
    secret: str, visitor: _Visitor,
) -> list[EngineFire]:  # fmt: skip
    streams: dict[str, list[RecordedFrame]] = defaultdict(list)
    for frame in frames:
        streams[frame.stream].append(frame)
    ordered = sorted(streams.values(), key=lambda s: min(f.received_ms for f in s))
    ids = (f"n_replay{n}" for n in itertools.count())
    ruleset = ruleset_from_dict(engine_rules)
    state, fires = None, []
    for stream in ordered:
        replayed = replay_stream(
            stream, ruleset=ruleset, state=state, identity=identity, new_id=lambda: next(ids),
            verify=lambda user_id, user_hash: verify_identity(secret, user_id, user_hash),
        )  # fmt: skip
        state = replayed.state
        visitor.streams += 1
        visitor.sessions += len(replayed.sessions)
        visitor.without_device += not replayed.device_known
        fires += replayed.fires
    return fires


@dataclasses.dataclass(frozen=True, slots=True)
class _Run:
    db: Database
    site_id: int
    draft: Rule
    ruleset: Ruleset
    since: int
    until: int


def _policy(
    run: _Run, ledger: apsw.Connection, visitor: str, fires: list[EngineFire],
    recorded: list[RecordedFire],
) -> list[DraftFire]:  # fmt: skip
    """The draft's fires in time order, each checked as the server would have, against the
    visitor's recorded fires (the draft's own id: only before the period) and the draft's
    earlier sends."""
    site_id, draft = run.site_id, run.draft
    history = [r for r in recorded if r.rule_id != draft.id or r.received_ms < run.since]
    timeline = sorted(
        [(r.received_ms, 0, r) for r in history] + [(f.server_ms, 1, f) for f in fires],
        key=lambda item: (item[0], item[1]),
    )
    out = []
    for at, _, item in timeline:
        if isinstance(item, RecordedFire):
            _store(ledger, site_id, visitor, rule_id=item.rule_id, at=at, status=item.status)
            continue
        refusal = schedule_refusal(draft.schedule, at)
        status = refusal.status if refusal else None
        if status is None and is_held_out(site_id, draft, visitor):
            status = "held_out"
        if status is None:
            windows = check_windows(
                ledger, site_id=site_id, rule=draft, policy=run.ruleset.policy, visitor=visitor,
                now_ms=at, pending_since_ms=0,
            )  # fmt: skip
            status = windows.status if windows else "sent"
        if status == "sent":
            _store(ledger, site_id, visitor, rule_id=draft.id, at=at, status=status)
        out.append(
            DraftFire(visitor=visitor, stream=item.stream, page=item.page, at_ms=item.at_ms,
                      server_ms=at, status=status)
        )  # fmt: skip
    return out


def _store(
    ledger: apsw.Connection, site_id: int, visitor: str, *, rule_id: str, at: int, status: str
) -> None:
    fire = NewFire(site_id=site_id, visitor=visitor, session=None, rule_id=rule_id,
                   rule_version=0, at_ms=at, received_ms=at, context={})  # fmt: skip
    record_fire(ledger, fire, status, "")


def _day(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d")


async def _cost(
    db: Database, site_id: int, since_ms: int, decisions: int, given: int | None
) -> CostEstimate:
    if given is not None:
        return CostEstimate(decisions=decisions, per_decision_nano=given,
                            total_nano=decisions * given, basis="given")  # fmt: skip
    rows = await Ledger(db).summary(site_id=site_id, since=_day(since_ms), by=("task",))
    row = next((r for r in rows if r.group.get("task") == _TASK and r.calls), None)
    if row is None:
        return CostEstimate(decisions=decisions, per_decision_nano=0, total_nano=0,
                            basis="no model")  # fmt: skip
    per = row.cost_nano // row.calls
    return CostEstimate(decisions=decisions, per_decision_nano=per, total_nano=decisions * per,
                        basis="ledger")  # fmt: skip


def _path(page: str) -> str:
    return page.partition("?")[0]


def _top_pages(fires: list[DraftFire], top: int) -> list[PageFires]:
    by_path: dict[str, list[DraftFire]] = defaultdict(list)
    for fire in fires:
        by_path[_path(fire.page)].append(fire)
    pages = [
        PageFires(path=path, fires=len(found), visitors=len({f.visitor for f in found}))
        for path, found in by_path.items()
    ]
    return sorted(pages, key=lambda p: (-p.fires, p.path))[:top]


def _live(ruleset: Ruleset, visitors: dict[str, _Visitor], since_ms: int) -> list[LiveRule]:
    """Per live rule (and any other that fired in the period): recorded and replayed fires."""
    recorded: dict[str, Counter[str]] = defaultdict(Counter)
    sent: dict[str, set[str]] = defaultdict(set)
    replayed: Counter[str] = Counter()
    for visitor, found in visitors.items():
        replayed.update(found.replayed)
        for fire in found.recorded:
            if fire.received_ms >= since_ms:
                recorded[fire.rule_id][fire.status] += 1
                if fire.status == "sent":
                    sent[fire.rule_id].add(visitor)
    ids = dict.fromkeys([*(r.id for r in ruleset.rules if r.enabled), *sorted(recorded)])
    live = [
        LiveRule(rule=rule_id, recorded=dict(recorded[rule_id]),
                 visitors_sent=len(sent[rule_id]), replayed=replayed[rule_id])
        for rule_id in ids
    ]  # fmt: skip
    return live


def _engine_rules(rule: Rule, ruleset: Ruleset) -> tuple[Rule, dict[str, Any]]:
    draft = dataclasses.replace(rule, enabled=True)
    others = [r for r in ruleset.rules if r.enabled and r.id != draft.id]
    view = Ruleset(version=ruleset.version, policy=ruleset.policy, rules=[draft, *others])
    return draft, engine_view(view)


async def backtest(
    db: Database,
    site_id: int,
    rule: Rule,
    *,
    days: float,
    now_ms: int,
    ruleset: Ruleset,
    price_per_decision_nano: int | None = None,
    top: int = 10,
) -> BacktestResult:
    """What ``rule`` would have done over the site's sessions of the last ``days``."""
    since = now_ms - int(days * _DAY_MS)
    # the windows policy looks back over, from the period's first fire
    history = since - max(_DAY_MS, int(rule.cap.days * _DAY_MS), int(rule.cooldown_seconds * 1000))
    draft, engine_rules = _engine_rules(rule, ruleset)
    run = _Run(db, site_id, draft, ruleset, since, now_ms)
    site = await db.run(lambda conn: get_site(conn, site_id))
    names = await db.run(lambda conn: recorded_visitors(conn, site_id, since, now_ms))
    ledger = _ledger()
    visitors: dict[str, _Visitor] = {}
    try:
        for name in names:
            frames, recorded, stored = await db.run(
                lambda conn, v=name: (  # type: ignore[misc]
                    recorded_frames(conn, site_id, v, since, now_ms),
                    visitor_fire_log(conn, site_id, v, history),
                    visitor_traits(conn, site_id, v),
                )
            )
            found = visitors[name] = _Visitor(recorded=recorded)
            fires = _replay(frames, _identity(frames, stored), engine_rules,
                            site.identity_secret, found)  # fmt: skip
            found.replayed.update(f.rule for f in fires if f.rule != draft.id)
            mine = [f for f in fires if f.rule == draft.id]
            found.draft = _policy(run, ledger, name, mine, recorded)
    finally:
        ledger.close()
    return await _result(run, visitors, price=price_per_decision_nano, top=top)


async def _result(
    run: _Run, visitors: dict[str, _Visitor], *, price: int | None, top: int
) -> BacktestResult:
    draft, since = run.draft, run.since
    fires = [f for v in visitors.values() for f in v.draft]
    outcomes = Counter(f.status for f in fires)
    sent_to = {f.visitor for f in fires if f.status == "sent"}
    others_sent = {
        v for v, found in visitors.items()
        if any(r.status == "sent" and r.rule_id != draft.id and r.received_ms >= since
               for r in found.recorded)
    }  # fmt: skip
    return BacktestResult(
        rule=draft.id,
        since_ms=since,
        until_ms=run.until,
        visitors=len(visitors),
        streams=sum(v.streams for v in visitors.values()),
        sessions=sum(v.sessions for v in visitors.values()),
        streams_without_device=sum(v.without_device for v in visitors.values()),
        fired_visitors=len({f.visitor for f in fires}),
        fires=len(fires),
        outcomes={k: outcomes[k] for k in _OUTCOMES if outcomes[k]},
        sent=outcomes["sent"],
        held_out=outcomes["held_out"],
        capped=outcomes["capped"],
        budget=outcomes["budget"],
        sent_visitors=len(sent_to),
        top_pages=_top_pages(fires, top),
        live=_live(run.ruleset, visitors, since),
        overlap_visitors=len(sent_to & others_sent),
        cost=await _cost(run.db, run.site_id, since, outcomes["sent"], price),
        fire_log=fires,
    )
