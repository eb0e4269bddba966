"""Backtests: recorded sessions replayed through the browser's engine, with the server's policy."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bpract.clock import now_ms
from bpract.llm.ledger import Ledger, UsageRecord
from bpract.llm.types import Usage
from bpract.sites import Site
from bpract.store import Database
from bpract.triggers.backtest import BacktestResult, backtest
from bpract.triggers.fires import visitor_fire_log
from bpract.triggers.policy import is_held_out
from bpract.triggers.service import TriggerService
from bpract.triggers.spec import load_rule, load_ruleset
from bpract.visitors.writer import FrameRow, FrameWriter, SignalRow
from bpract_client.engine import Engine
from bpract_client.rules import Rule, Ruleset, engine_view, ruleset_from_dict
from support.eventually import eventually_async
from support.server import ServerProcess
from support.sites import make_site
from support.visitor import VisitorClient, new_id
from triggers.support import HOUR

ORIGIN = "http://127.0.0.1:8765"
SHOP = "http://127.0.0.1:8765"
LIVE = """
policy: {interruption_budget: 1}
rules:
  - id: pricing-help
    when: {page: ["/pricing*"], attentive_seconds: 30}
    message: {text: "Comparing plans?"}
    cap: {count: 1, days: 1}
  - id: cart-doubt
    priority: 5
    when: {cart_churn: {changes: 3, minutes: 10}}
    message: {text: "Not sure yet?"}
"""
SECOND = 1000

Script = list[tuple[int, dict[str, Any]]]


def page(at: int, path: str) -> tuple[int, dict[str, Any]]:
    return at, {"k": "page", "url": SHOP + path, "title": path, "referrer": "", "nav": "load"}


def active(start: int, end: int) -> Script:
    """Activity every 5 s: the visitor is attentive from ``start`` to 30 s after ``end``."""
    return [(t, {"k": "act"}) for t in range(start, end + 1, 5 * SECOND)]


def cart(at: int, action: str) -> tuple[int, dict[str, Any]]:
    item = {"id": "sku-1", "name": "Mug", "price": 9.5, "qty": 1}
    return at, {"k": "ecom", "name": action, "items": [item], "currency": "EUR"}


def browse(engine: Engine, script: Script, base: int, until: int) -> list[dict[str, Any]]:
    """Run the engine as the browser does: each event at its time, a tick every second."""
    events = sorted(script, key=lambda e: e[0])
    out: list[dict[str, Any]] = []
    i = 0
    for t in range(0, until + 1, SECOND):
        while i < len(events) and events[i][0] <= t:
            at, event = events[i]
            engine.handle({**event, "at": base + at})
            i += 1
        engine.tick(base + t)
        out += engine.drain()
    return out


def numbered(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**frame, "seq": n} for n, frame in enumerate(frames, 1)]


#: Each visitor's tabs: a script and how long the tab stays open (ms from its start).
JOURNEYS: dict[str, list[tuple[int, Script, int]]] = {
    # attentive on pricing: fires; back on pricing later: fires again, capped
    "alice": [
        (
            0,
            [
                page(0, "/pricing"),
                *active(0, 10 * SECOND),
                page(45 * SECOND, "/"),
                page(50 * SECOND, "/pricing?plan=pro"),
                *active(50 * SECOND, 60 * SECOND),
            ],
            100 * SECOND,
        ),
    ],
    # 15 s on pricing, then gone: never fires
    "bob": [(0, [page(0, "/pricing"), *active(0, 0)], 15 * SECOND)],
    # cart churn first (sent), then pricing: the day's budget of one is spent
    "carol": [
        (
            0,
            [
                page(0, "/shop"),
                cart(2 * SECOND, "add_to_cart"),
                cart(4 * SECOND, "remove_from_cart"),
                cart(6 * SECOND, "add_to_cart"),
                page(10 * SECOND, "/pricing"),
                *active(10 * SECOND, 20 * SECOND),
            ],
            60 * SECOND,
        ),
    ],
    # a first tab with a short look, a second one an hour later that fires
    "dan": [
        (0, [page(0, "/pricing")], 5 * SECOND),
        (
            HOUR,
            [
                page(0, "/docs"),
                *active(0, 40 * SECOND),
                page(50 * SECOND, "/pricing"),
                *active(50 * SECOND, 55 * SECOND),
            ],
            90 * SECOND,
        ),
    ],
    # long on the docs, never on pricing
    "erin": [(0, [page(0, "/docs"), *active(0, 90 * SECOND)], 120 * SECOND)],
}


@pytest.fixture
def live(tmp_path: Path) -> Iterator[tuple[ServerProcess, Site, Path]]:
    path = tmp_path / "live.db"
    site = make_site(path, origins=[ORIGIN])
    database = Database(path)
    try:
        service = TriggerService(database, None)
        asyncio.run(service.save_ruleset(site.id, load_ruleset(LIVE), source=LIVE, author="t"))
    finally:
        database.close()
    with ServerProcess(path) as server:
        yield server, site, path


async def _visit(server: ServerProcess, site: Site, visitor: str, base: int) -> str:
    """One visitor's tabs, their engine's frames sent through the visitor socket; its id."""
    state: dict[str, Any] | None = None
    for offset, script, until in JOURNEYS[visitor]:
        client = await VisitorClient.open(server.ws_url, ORIGIN)
        try:
            welcome = await _hello(client, site, state)
            engine = Engine(
                ruleset=ruleset_from_dict(welcome["ruleset"]),
                state=state["engine"] if state else None,
                device="desktop",
            )
            frames = numbered(browse(engine, script, base + offset, until))
            for frame in frames:
                await client.send(frame)
            await client.acks(len(frames))
            state = {"engine": engine.snapshot(), "visitor": client.visitor, "key": client.key}
        finally:
            await client.close()
    assert state is not None
    return str(state["visitor"])


async def _hello(client: VisitorClient, site: Site, state: dict[str, Any] | None) -> dict[str, Any]:
    if state is None:
        return await client.hello(site.public_key)
    return await client.hello(site.public_key, visitor=state["visitor"], key=state["key"])


async def _settled(db: Database, site_id: int, visitors: list[str]) -> list[tuple[Any, ...]]:
    """Every recorded fire of the visitors, once none is still being decided."""

    async def read() -> list[tuple[Any, ...]]:
        fires = [
            (v, f.rule_id, f.page.partition("?")[0], f.status)
            for v in visitors
            for f in await db.run(lambda c, v=v: visitor_fire_log(c, site_id, v, 0))  # type: ignore[misc]
        ]
        return [] if any(f[3] == "pending" for f in fires) else fires

    return await eventually_async(read, 10.0, 0.1)


def _rule(ruleset: Ruleset, rule_id: str) -> Rule:
    found = ruleset.get(rule_id)
    assert found is not None
    return found


def _fired(result: BacktestResult) -> set[tuple[str, str, str, str]]:
    return {(f.visitor, result.rule, f.page.partition("?")[0], f.status) for f in result.fire_log}


async def test_a_backtest_of_a_live_rule_finds_the_fires_it_made_live(
    live: tuple[ServerProcess, Site, Path],
) -> None:
    server, site, path = live
    base = now_ms() - 2 * HOUR
    visitors = [await _visit(server, site, name, base) for name in JOURNEYS]
    db = Database(path)
    try:
        recorded = await _settled(db, site.id, visitors)
        ruleset = load_ruleset(LIVE)
        for rule_id in ("pricing-help", "cart-doubt"):
            result = await backtest(
                db, site.id, _rule(ruleset, rule_id), days=1, now_ms=now_ms(),
                ruleset=ruleset, price_per_decision_nano=None,
            )  # fmt: skip
            live_fires = {f for f in recorded if f[1] == rule_id}
            assert _fired(result) == live_fires
            assert result.visitors == len(JOURNEYS)
            assert result.streams == sum(len(tabs) for tabs in JOURNEYS.values())
            assert result.cost.basis == "no model"
        alice, _bob, carol, dan, _erin = visitors
        pricing = {(v, p, s) for v, r, p, s in recorded if r == "pricing-help"}
        # what the live run did, so that the comparison above covers every outcome
        assert pricing == {
            (alice, "/pricing", "sent"), (alice, "/pricing", "capped"),
            (carol, "/pricing", "budget"), (dan, "/pricing", "sent"),
        }  # fmt: skip
        result = await backtest(
            db, site.id, _rule(ruleset, "pricing-help"), days=1, now_ms=now_ms(),
            ruleset=ruleset, price_per_decision_nano=None,
        )  # fmt: skip
        assert (result.sent, result.capped, result.budget) == (2, 1, 1)
        assert result.top_pages[0].path == "/pricing"
        assert result.top_pages[0].visitors == 3
        by_rule = {r.rule: r for r in result.live}
        # carol's churn holds on her next page too: fired there again, capped
        assert by_rule["cart-doubt"].recorded == {"sent": 1, "capped": 1}
        assert by_rule["cart-doubt"].replayed == 2
        assert result.overlap_visitors == 0  # carol's cart message took the budget
    finally:
        db.close()


# -- recorded directly: frames as the socket stores them ------------------------------------


async def record(
    db: Database, site_id: int, visitor: str, frames: list[dict[str, Any]], *, received: int
) -> None:
    """Store one stream's frames as the socket does, received ``received`` ms after their
    browser time."""
    writer = FrameWriter(db)
    writer.start()
    stream = new_id("s_")
    try:
        for frame in numbered(frames):
            row = FrameRow(site_id, visitor, stream, frame["seq"], frame["t"], frame["at"],
                           frame["at"] + received, json.dumps(frame))  # fmt: skip
            signal = None
            if frame["t"] == "signal":
                signal = SignalRow(site_id, visitor, frame["session"], frame["name"],
                                   frame["at"], json.dumps(frame["data"]))  # fmt: skip
            assert await writer.store(row, signal)
    finally:
        await writer.stop()


def pricing_visit(ruleset: Ruleset, base: int) -> list[dict[str, Any]]:
    """35 s of attention on /pricing, as a browser with no live rule records it."""
    engine = Engine(ruleset=ruleset_from_dict(engine_view(ruleset)), state=None, device="mobile")
    script = [page(0, "/pricing"), *active(0, 5 * SECOND)]
    return browse(engine, script, base, 40 * SECOND)


DRAFT = """
id: pricing-draft
when: {page: ["/pricing*"], attentive_seconds: 20}
message: {text: "Questions about pricing?"}
"""


async def _run(db: Database, site_id: int, rule: Rule, **kw: Any) -> BacktestResult:
    args: dict[str, Any] = {"days": 1, "now_ms": now_ms(), "ruleset": Ruleset(),
                            "price_per_decision_nano": None} | kw  # fmt: skip
    return await backtest(db, site_id, rule, **args)


async def test_a_draft_that_never_matches_fires_for_nobody(db: Database, site_id: int) -> None:
    base = now_ms() - HOUR
    for n in range(3):
        await record(db, site_id, f"v_visitor{n}", pricing_visit(Ruleset(), base), received=50)
    never = load_rule("id: never\nwhen: {page: ['/nowhere']}\nmessage: {text: Hi}")
    result = await _run(db, site_id, never)
    assert (result.visitors, result.fires, result.fired_visitors) == (3, 0, 0)
    assert result.top_pages == []
    # the same sessions do fire a draft that matches them
    assert (await _run(db, site_id, load_rule(DRAFT))).fired_visitors == 3


async def test_held_out_visitors_are_the_ones_policy_holds_out(db: Database, site_id: int) -> None:
    base = now_ms() - HOUR
    visitors = [f"v_holdout{n:02d}" for n in range(20)]
    for visitor in visitors:
        await record(db, site_id, visitor, pricing_visit(Ruleset(), base), received=50)
    rule = load_rule(DRAFT + "holdout: 50\n")
    result = await _run(db, site_id, rule)
    held = {f.visitor for f in result.fire_log if f.status == "held_out"}
    sent = {f.visitor for f in result.fire_log if f.status == "sent"}
    assert held == {v for v in visitors if is_held_out(site_id, rule, v)}
    assert sent == set(visitors) - held
    assert held and sent
    assert result.held_out == len(held)
    assert (await _run(db, site_id, rule)).fire_log == result.fire_log  # deterministic


async def test_a_visitor_outside_the_period_is_not_counted(db: Database, site_id: int) -> None:
    now = now_ms()
    await record(db, site_id, "v_recent", pricing_visit(Ruleset(), now - HOUR), received=50)
    await record(db, site_id, "v_old", pricing_visit(Ruleset(), now - 3 * 24 * HOUR), received=50)
    result = await _run(db, site_id, load_rule(DRAFT), now_ms=now)
    assert result.visitors == 1
    assert {f.visitor for f in result.fire_log} == {"v_recent"}
    longer = await _run(db, site_id, load_rule(DRAFT), now_ms=now, days=4)
    assert {f.visitor for f in longer.fire_log} == {"v_recent", "v_old"}


async def test_another_sites_sessions_are_never_read(
    db: Database, site_id: int, other_site_id: int
) -> None:
    base = now_ms() - HOUR
    await record(db, other_site_id, "v_elsewhere", pricing_visit(Ruleset(), base), received=50)
    result = await _run(db, site_id, load_rule(DRAFT))
    assert (result.visitors, result.fires) == (0, 0)
    assert (await _run(db, other_site_id, load_rule(DRAFT))).fired_visitors == 1


async def test_the_cost_is_the_mean_recorded_decision_cost(db: Database, site_id: int) -> None:
    base = now_ms() - HOUR
    for n in range(2):
        await record(db, site_id, f"v_cost{n}", pricing_visit(Ruleset(), base), received=50)
    ledger = Ledger(db)
    for cost in (100, 300):
        usage = UsageRecord(site_id=site_id, department="default", rule="other", conversation="",
                            task="trigger_decision", provider="p", model="m", streamed=False,
                            usage=Usage(), cost_nano=cost, saved_nano=0, price_version="t",
                            priced=True)  # fmt: skip
        await db.transaction(lambda c, u=usage: ledger.record_in(c, u))  # type: ignore[misc]
    result = await _run(db, site_id, load_rule(DRAFT))
    assert (result.cost.basis, result.cost.per_decision_nano) == ("ledger", 200)
    assert result.cost.total_nano == 2 * 200
    given = await _run(db, site_id, load_rule(DRAFT), price_per_decision_nano=7)
    assert (given.cost.basis, given.cost.total_nano) == ("given", 14)
