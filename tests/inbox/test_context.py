"""The context beside a transcript, on a real SQLite file: what the visitors, triggers and
actions features stored (through their own storage functions), for one site only, escaped."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import apsw
import pytest

from bpract.actions import pending
from bpract.actions.storage import AuditEvent, Event, record_event
from bpract.chat import storage as chat
from bpract.features import MIGRATIONS
from bpract.inbox.context import VisitorContext, summary_of, visitor_context
from bpract.inbox.context_page import context_panel
from bpract.sites import Site, create_org, create_site, user_hash
from bpract.store import Database, migrate, transaction
from bpract.triggers.decider import Decision
from bpract.triggers.fires import NewFire, claim_fire, record_fire, settle
from bpract.triggers.rulesets import StoredRuleset, insert_version
from bpract.visitors.storage import Opened, open_visitor
from bpract.visitors.writer import FrameWriter, SignalRow
from bpract.wire.frames import Hello, Identity

XSS = "<img src=x onerror=alert(1)>"
NOW = 1_800_000_000_000
VISITOR = "v_maya"


@dataclass(frozen=True)
class World:
    db: Database
    shop: Site
    rival: Site
    conversation: str
    other: str
    """A conversation of the same visitor id on the rival site."""


def _tx(db: Database, fn: Any) -> Any:
    def run(conn: apsw.Connection) -> Any:
        with transaction(conn, lock=True):
            return fn(conn)

    return db.run_sync(run)


def _hello(site: Site, visitor: str, identity: Identity | None = None) -> Hello:
    return Hello(v=1, site=site.public_key, visitor=visitor, stream="s_1", identity=identity)


def _fire(conn: apsw.Connection, site: Site, visitor: str, rule: str, at: int, **how: Any) -> None:
    fire = NewFire(site_id=site.id, visitor=visitor, session="n_1", rule_id=rule, rule_version=1,
                   at_ms=at, received_ms=at, context={})  # fmt: skip
    stored = record_fire(conn, fire, how.get("status", "pending"), how.get("reason", ""))
    if "message" in how:
        claimed = claim_fire(conn, stored.id, "c1", now_ms=at, until_ms=at + 10, since_ms=0)
        assert claimed is not None
        decision = Decision(engage=True, message=how["message"], cta=None, reason="fits",
                            decided_by="fallback")  # fmt: skip
        assert settle(conn, claimed, decision, at)[0]


def _audit(
    conn: apsw.Connection, site: Site, conv: str, action: str, event: Event, **kw: Any
) -> None:
    entry = AuditEvent(
        site_id=site.id, conversation=conv, visitor=VISITOR, action=action, event=event, **kw
    )
    record_event(conn, entry)


def _open(db: Database, site: Site, visitor: str, at: int, identity: Identity | None) -> None:
    hello = _hello(site, visitor, identity)
    origin = site.allowed_origins[0]
    opened = db.run_sync(lambda c: open_visitor(c, hello, origin, at, key_grace_ms=60_000))
    assert isinstance(opened, Opened) and opened.visitor == visitor


def _pending(site: Site, conv: str, pid: str, text: str) -> pending.PendingRow:
    return pending.PendingRow(
        id=pid, site_id=site.id, conversation=conv, visitor=VISITOR, user_id="u_42",
        action="order_status", version=1, arguments={"order": "A-1", "token": "sekrit-arg"},
        fields=[], digest="d", card={}, source="matcher", state="succeeded",
        result={"api_key": "sekrit-result"}, text=text, created_ms=NOW - 60_000,
        expires_ms=NOW + 60_000, settled_ms=NOW - 50_000,
    )  # fmt: skip


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    db = Database(tmp_path / "context.db")
    db.run_sync(lambda c: migrate(c, MIGRATIONS))
    org = _tx(db, lambda c: create_org(c, "Acme").id)
    rival_org = _tx(db, lambda c: create_org(c, "Globex").id)
    shop: Site = _tx(db, lambda c: create_site(c, name="Shop", origins=["https://a.test"],
                                               org_id=org))  # fmt: skip
    rival: Site = _tx(db, lambda c: create_site(c, name="Rival", origins=["https://c.test"],
                                                org_id=rival_org))  # fmt: skip
    verified = Identity(user_id="u_42", user_hash=user_hash(shop.identity_secret, "u_42"),
                        traits={"name": XSS, "plan": "Club", "orders": 3})  # fmt: skip
    # the same visitor id on the rival site: verified there, with traits of its own
    theirs = Identity(user_id="u_rival", user_hash=user_hash(rival.identity_secret, "u_rival"),
                      traits={"plan": "Rival-secret"})  # fmt: skip
    _open(db, shop, VISITOR, NOW - 3_600_000, verified)
    _open(db, rival, VISITOR, NOW - 7_200_000, theirs)
    _open(db, shop, "v_anon", NOW - 1000, None)

    writer = FrameWriter(db)
    writer.start()
    try:

        def page(site: Site, path: str, title: str, at: int) -> SignalRow:
            data = {"path": path, "url": f"https://a.test{path}", "title": title, "nav": "load"}
            return SignalRow(site.id, VISITOR, "n_1", "page_view", at, json.dumps(data))

        rows = [
            page(shop, "/", "Home", NOW - 600_000),
            page(shop, "/pricing", f"Pricing {XSS}", NOW - 300_000),
            page(rival, "/rival-only", "Rival page", NOW - 200_000),
            SignalRow(shop.id, VISITOR, "n_1", "dwell", NOW - 290_000,
                      json.dumps({"path": "/pricing", "seconds": 45})),
            SignalRow(shop.id, VISITOR, "n_1", "cart", NOW - 280_000,
                      json.dumps({"action": "remove", "items": [{"id": "x"}, {"id": "y"}],
                                  "value": 59.5, "currency": "EUR"})),
            SignalRow(shop.id, VISITOR, "n_1", "identify", NOW - 270_000,
                      json.dumps({"user_id": "forged", "traits": {"email": "forged@x.test"}})),
            SignalRow(rival.id, VISITOR, "n_1", "dwell", NOW - 260_000,
                      json.dumps({"path": "/rival-only", "seconds": 9})),
        ]  # fmt: skip
        for row in rows:
            assert await writer.store(None, row)
    finally:
        await writer.stop()

    def conversations(conn: apsw.Connection) -> tuple[str, str]:
        mine, _ = chat.open_conversation(conn, shop.id, VISITOR, NOW - 100_000,
                                         since_ms=NOW - 100_000, outreach_id=None)  # fmt: skip
        chat.set_lang(conn, shop.id, mine.id, "de")
        other, _ = chat.open_conversation(conn, rival.id, VISITOR, NOW - 100_000,
                                          since_ms=NOW - 100_000, outreach_id=None)  # fmt: skip
        return mine.id, other.id

    conv, other = _tx(db, conversations)

    def fires_and_actions(conn: apsw.Connection) -> None:
        body = {"rules": [{"id": "pricing_help", "name": f"Pricing help {XSS}"}]}
        insert_version(conn, StoredRuleset(shop.id, 1, body, "", "", ""))
        _fire(conn, shop, VISITOR, "pricing_help", NOW - 250_000, message=f"Need help? {XSS}")
        _fire(conn, shop, VISITOR, "cart_save", NOW - 240_000, status="held_out",
              reason="visitor is in the rule's 10% holdout")  # fmt: skip
        _fire(conn, shop, VISITOR, "late_night", NOW - 230_000, status="off_schedule",
              reason="sat 23:10 UTC is outside mon-fri")  # fmt: skip
        _fire(conn, rival, VISITOR, "rival_rule", NOW - 220_000, message="Rival offer")
        _fire(conn, shop, "v_someone_else", "pricing_help", NOW - 210_000, message="Not yours")
        pending.insert(conn, _pending(shop, conv, "pa_1", "Your order A-1 ships Monday."))
        _audit(conn, shop, conv, "order_status", "proposed", pending="pa_1")
        _audit(conn, shop, conv, "order_status", "confirmed", pending="pa_1")
        _audit(conn, shop, conv, "order_status", "succeeded", pending="pa_1")
        _audit(conn, shop, conv, "refund", "failed", reason="http_502")
        _audit(conn, shop, "c_elsewhere", "cancel", "proposed")
        _audit(conn, rival, other, "rival_action", "proposed")

    _tx(db, fires_and_actions)
    yield World(db=db, shop=shop, rival=rival, conversation=conv, other=other)
    db.close()


async def _context(world: World, site: Site | None = None, visitor: str = VISITOR,
                   conversation: str | None = None) -> VisitorContext:  # fmt: skip
    return await visitor_context(
        world.db, (site or world.shop).id, visitor, conversation or world.conversation, NOW
    )


async def test_the_context_holds_what_the_features_stored(world: World) -> None:
    ctx = await _context(world)
    assert ctx.user_id == "u_42"
    assert dict(ctx.traits) == {"name": XSS, "plan": "Club", "orders": 3}
    assert ctx.first_seen_ms == NOW - 3_600_000 and ctx.language == "de"
    journey = [(p.path, p.title) for p in ctx.journey]
    assert journey == [("/pricing", f"Pricing {XSS}"), ("/", "Home")]
    assert [(s.name, s.summary) for s in ctx.signals] == [
        ("identify", ""),  # an identify's traits are the page's word, not the site's: not shown
        ("cart", "remove 2 item(s) 59.5 EUR"),
        ("dwell", "45 s on /pricing"),
    ]
    assert [(r.rule_id, r.status, r.message) for r in ctx.rules] == [
        ("late_night", "off_schedule", None),
        ("cart_save", "held_out", None),
        ("pricing_help", "sent", f"Need help? {XSS}"),
    ]
    assert ctx.rules[2].name == f"Pricing help {XSS}" and ctx.rules[0].name == ""
    assert "holdout" in ctx.rules[1].reason
    assert [(a.action, a.event) for a in ctx.actions] == [
        ("order_status", "proposed"), ("order_status", "confirmed"),
        ("order_status", "succeeded"), ("refund", "failed"),
    ]  # fmt: skip
    assert ctx.actions[2].told == "Your order A-1 ships Monday."
    assert ctx.actions[3].reason == "http_502"
    assert all(a.at_ms is not None for a in ctx.actions)


async def test_another_sites_rows_never_appear(world: World) -> None:
    ctx = await _context(world)
    shown = repr(ctx) + context_panel(ctx, NOW)
    for theirs in ("u_rival", "Rival-secret", "/rival-only", "rival_rule", "Rival offer",
                   "rival_action", "cancel", "Not yours"):  # fmt: skip
        assert theirs not in shown
    # the rival site's view of the same visitor id holds its rows only
    rival = await _context(world, world.rival, conversation=world.other)
    assert rival.user_id == "u_rival" and [p.path for p in rival.journey] == ["/rival-only"]
    assert [r.rule_id for r in rival.rules] == ["rival_rule"]
    assert [a.action for a in rival.actions] == ["rival_action"]
    # another site's conversation id gives no actions and no language
    crossed = await _context(world, conversation=world.other)
    assert crossed.actions == [] and crossed.language is None


async def test_an_unverified_visitor_shows_no_traits(world: World) -> None:
    def unverified(conn: apsw.Connection) -> None:
        # traits stored without a verified user id (as a row made elsewhere might be)
        conn.execute("UPDATE visitors SET traits = ? WHERE site_id = ? AND id = 'v_anon'",
                     (json.dumps({"email": "claimed@x.test"}), world.shop.id))  # fmt: skip

    _tx(world.db, unverified)
    ctx = await _context(world, visitor="v_anon")
    assert ctx.user_id is None and dict(ctx.traits) == {}
    panel = context_panel(ctx, NOW)
    assert "claimed@x.test" not in panel and "Not identified by the site." in panel


async def test_an_unknown_visitor_has_an_empty_context_that_says_so(world: World) -> None:
    ctx = await _context(world, visitor="v_never", conversation="c_none")
    assert ctx.user_id is None and ctx.first_seen_ms is None
    assert (ctx.journey, ctx.signals, ctx.rules, ctx.actions) == ([], [], [], [])
    panel = context_panel(ctx, NOW)
    for empty in ("No page views stored.", "No other signals.", "No rule fired",
                  "No action in this conversation."):  # fmt: skip
        assert empty in panel


async def test_the_panel_escapes_every_value_and_says_when(world: World) -> None:
    panel = context_panel(await _context(world), NOW)
    assert panel.startswith('<aside class="card context"')
    assert XSS not in panel and "<img" not in panel
    assert panel.count("&lt;img src=x onerror=alert(1)&gt;") == 4  # trait, title, rule, message
    assert "5 min ago" in panel and "1 h ago" in panel
    assert "sekrit" not in panel and user_hash(world.shop.identity_secret, "u_42") not in panel
    assert "forged" not in panel


@pytest.mark.parametrize(
    ("name", "data", "summary"),
    [
        ("scroll", {"path": "/a", "percent": 75}, "75% on /a"),
        ("rage_click", {"path": "/a", "target": "button#buy", "count": 2}, "at button#buy on /a"),
        ("exit_intent", {"path": "/a"}, "on /a"),
        ("track", {"name": "video_play", "props": {"email": "x@y.z"}}, "video_play"),
        ("idle", {"path": ["not", "a", "string"], "seconds": "lots"}, ""),
        ("custom", {"anything": "secret"}, ""),
        ("dwell", {"path": "/" + "p" * 300, "seconds": True}, ("on /" + "p" * 300)[:119] + "…"),
    ],
)
def test_a_signal_summary_shows_only_the_known_fields(
    name: str, data: dict[str, Any], summary: str
) -> None:
    assert summary_of(name, data) == summary
