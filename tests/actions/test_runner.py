"""Proposals, cards and one execution, against the demo store's API on loopback and real SQLite.

Every refusal leaves an audit entry and runs nothing; every confirm of a card, however
often it arrives, makes the business API act at most once.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from bpract.actions import ActionService, load_actions
from bpract.actions.calls import build_call
from bpract.actions.executor import Limits, action_outbound, execute
from bpract.actions.outcomes import Asker, Carded, Ran, Refused, for_model
from bpract.actions.runner import ActionRunner, Claimed
from bpract.features import MIGRATIONS
from bpract.net import NetSettings
from bpract.store import Database, migrate
from demo.conftest import API_KEY, DemoServer, _start
from support.sites import make_site

DEMO = (Path(__file__).resolve().parents[2] / "demo_site" / "actions.yaml").read_text("utf-8")
MAYA = "u_1001"  # the demo's signed-in member
TOMAS = "u_1002"


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000_000

    def __call__(self) -> int:
        return self.now


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoServer]:
    """A fresh demo store per test: plans, refunds and deliveries as seeded."""
    yield from _start(tmp_path / "demo.sqlite3")


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "store.db")
    database.run_sync(lambda c: migrate(c, MIGRATIONS))
    yield database
    database.close()


@pytest.fixture
def site(tmp_path: Path, db: Database) -> int:
    return make_site(tmp_path / "store.db", origins=["http://127.0.0.1:9"]).id


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _runner(db: Database, demo: DemoServer, clock: Clock) -> ActionRunner:
    return ActionRunner(
        db, ActionService(db), net=NetSettings(allow=demo.url),
        limits=Limits(attempts=2, backoff=0.01), environ={"DEMO_API_KEY": API_KEY}, now_ms=clock,
    )  # fmt: skip


@pytest.fixture
async def runner(
    db: Database, site: int, demo: DemoServer, clock: Clock
) -> AsyncIterator[ActionRunner]:
    actions = load_actions(DEMO.replace("http://127.0.0.1:8080", demo.url))
    await ActionService(db).save(site, actions, source=DEMO, author="test")
    made = _runner(db, demo, clock)
    yield made
    await made.aclose()


def asker(
    site: int, user: str | None = MAYA, *, visitor: str = "v_maya", conv: str = "c_1"
) -> Asker:
    traits = {"plan": "plus", "billing": "monthly"} if user else {}
    return Asker(site_id=site, conversation=conv, visitor=visitor, user_id=user, traits=traits)


def refunds(demo: DemoServer, account: str = MAYA) -> list[tuple[Any, ...]]:
    with sqlite3.connect(demo.db) as conn:
        return conn.execute(
            "SELECT amount_cents FROM refunds WHERE account_id = ?", (account,)
        ).fetchall()


def account(demo: DemoServer, ident: str = MAYA) -> dict[str, Any]:
    with demo.client() as client:
        found: dict[str, Any] = client.get(f"/api/accounts/{ident}").json()
        return found


async def card(runner: ActionRunner, who: Asker, name: str, **args: Any) -> Carded:
    outcome = await runner.propose(who, name, args, source="matcher")
    assert isinstance(outcome, Carded), outcome
    return outcome


async def events(db: Database, site: int) -> list[tuple[str, str, str]]:
    audit = await ActionService(db).audit(site)
    return [(e.action, e.event, e.reason) for e in audit]


# -- a refund, confirmed once ---------------------------------------------------------------


async def test_a_refund_card_shows_the_amount_and_runs_once_on_confirm(
    runner: ActionRunner, site: int, demo: DemoServer, db: Database
) -> None:
    made = await card(runner, asker(site), "refund_damaged_item", amount_cents=1250,
                      reason="torn seam")  # fmt: skip
    c = made.card
    assert c.title == "Refund a damaged item"
    assert c.text == "Refund 12.50 EUR of your last charge to your card."
    assert [(d.label, d.value) for d in c.details] == [
        ("Amount", "12.50"), ("Reason", "torn seam"),
    ]  # fmt: skip
    assert c.irreversible and c.fields == [] and MAYA not in str(c.details)
    assert refunds(demo) == []  # nothing runs before the click
    done = await runner.confirm(site_id=site, visitor="v_maya", user_id=MAYA, token=c.token,
                                values={})  # fmt: skip
    assert done is not None and done.fresh
    assert (done.frame.state, done.frame.text) == ("succeeded", "Refunded 12.50 EUR to your card.")
    again = await runner.confirm(site_id=site, visitor="v_maya", user_id=MAYA, token=c.token,
                                 values={})  # fmt: skip
    assert again is not None and not again.fresh and again.frame == done.frame
    assert refunds(demo) == [(1250,)]
    assert await events(db, site) == [
        ("refund_damaged_item", "proposed", "matcher"),
        ("refund_damaged_item", "confirmed", ""),
        ("refund_damaged_item", "succeeded", ""),
    ]


async def test_two_confirms_at_once_make_one_refund(
    runner: ActionRunner, site: int, demo: DemoServer
) -> None:
    c = (await card(runner, asker(site), "refund_damaged_item", amount_cents=900)).card
    both = await asyncio.gather(*(
        runner.confirm(site_id=site, visitor="v_maya", user_id=MAYA, token=c.token, values={})
        for _ in range(5)
    ))  # fmt: skip
    fresh = [s for s in both if s is not None and s.fresh]
    assert len(fresh) == 1 and fresh[0].frame.state == "succeeded"
    assert refunds(demo) == [(900,)]


async def test_cancel_runs_nothing_and_a_later_confirm_gets_the_decline(
    runner: ActionRunner, site: int, demo: DemoServer, db: Database
) -> None:
    c = (await card(runner, asker(site), "refund_damaged_item", amount_cents=500)).card
    declined = await runner.decline(site_id=site, visitor="v_maya", user_id=MAYA, token=c.token)
    assert declined is not None and declined.fresh and declined.frame.state == "declined"
    after = await runner.confirm(site_id=site, visitor="v_maya", user_id=MAYA, token=c.token,
                                 values={})  # fmt: skip
    assert after is not None and after.frame.state == "declined" and not after.fresh
    assert refunds(demo) == []
    assert ("refund_damaged_item", "declined", "") in await events(db, site)


# -- refusals: audited, nothing run -------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "name", "args", "reason"),
    [
        (MAYA, "refund_damaged_item", {"amount_cents": 500_000}, "over_limit"),
        (None, "refund_damaged_item", {"amount_cents": 500}, "sign_in_required"),
        (MAYA, "refund_damaged_item", {"amount_cents": 500, "account_id": TOMAS}, "bound_argument"),
        (MAYA, "refund_damaged_item", {"amount_cents": -5}, "invalid_arguments"),
        (MAYA, "refund_damaged_item", {"amount_cents": "lots"}, "invalid_arguments"),
        (MAYA, "refund_damaged_item", {"amount_cents": 500, "iban": "X"}, "invalid_arguments"),
        (MAYA, "wire_money", {"amount_cents": 500}, "undeclared"),
        (MAYA, "change_plan", {"plan": "platinum"}, "invalid_arguments"),
    ],
)
async def test_a_proposal_that_may_not_be_made_is_refused_and_audited(
    runner: ActionRunner, site: int, demo: DemoServer, db: Database,
    who: str | None, name: str, args: dict[str, Any], reason: str,
) -> None:  # fmt: skip
    outcome = await runner.propose(asker(site, who), name, args, source="model")
    assert isinstance(outcome, Refused) and outcome.reason == reason
    assert outcome.text and "{" not in outcome.text
    assert await events(db, site) == [(name, "refused", reason)]
    assert '"status":"refused"' in for_model(outcome)
    assert refunds(demo) == [] and refunds(demo, TOMAS) == []


async def test_the_daily_limit_counts_confirmed_runs(
    runner: ActionRunner, site: int, demo: DemoServer
) -> None:
    first = (await card(runner, asker(site), "refund_damaged_item", amount_cents=100)).card
    second = (await card(runner, asker(site), "refund_damaged_item", amount_cents=200)).card
    ok = await runner.confirm(site_id=site, visitor="v_maya", user_id=MAYA, token=first.token,
                              values={})  # fmt: skip
    assert ok is not None and ok.frame.state == "succeeded"
    over = await runner.confirm(site_id=site, visitor="v_maya", user_id=MAYA, token=second.token,
                                values={})  # fmt: skip
    assert over is not None and over.frame.state == "refused" and "limit" in over.frame.text
    third = await runner.propose(asker(site), "refund_damaged_item", {"amount_cents": 1},
                                 source="matcher")  # fmt: skip
    assert isinstance(third, Refused) and third.reason == "daily_limit"
    assert refunds(demo) == [(100,)]


async def _confirm_as(runner: ActionRunner, site: int, token: str, **who: Any) -> Any:
    return await runner.confirm(site_id=site, token=token, values={}, **who)


async def test_a_confirm_from_another_visitor_or_identity_is_refused_and_disturbs_nothing(
    runner: ActionRunner, site: int, demo: DemoServer, db: Database
) -> None:
    c = (await card(runner, asker(site), "refund_damaged_item", amount_cents=700)).card
    other = await _confirm_as(runner, site, c.token, visitor="v_tomas", user_id=TOMAS)
    assert other.frame.state == "refused" and not other.fresh
    signed_out = await _confirm_as(runner, site, c.token, visitor="v_maya", user_id=None)
    assert signed_out.frame.state == "refused" and not signed_out.fresh
    assert refunds(demo) == []
    mine = await _confirm_as(runner, site, c.token, visitor="v_maya", user_id=MAYA)
    assert mine.frame.state == "succeeded"  # the owner's card was left as it was
    reasons = [r for _, e, r in await events(db, site) if e == "refused"]
    assert reasons == ["other_visitor", "other_identity"]


@pytest.mark.parametrize("how", ["tampered", "malformed", "unknown"])
async def test_a_forged_or_altered_token_confirms_nothing(
    runner: ActionRunner, site: int, demo: DemoServer, db: Database, how: str
) -> None:
    c = (await card(runner, asker(site), "refund_damaged_item", amount_cents=700)).card
    version, payload, mac = c.token.split(".")
    forged = {
        "tampered": f"{version}.{payload}.{mac[:-2]}{'AA' if mac[-2:] != 'AA' else 'BB'}",
        "malformed": "v1.not-a-token",
        "unknown": (await card(runner, asker(site, conv="c_2"), "refund_damaged_item",
                               amount_cents=1)).card.token.replace("v1.", "v1.", 1),
    }[how]  # fmt: skip
    if how == "unknown":
        # another conversation's card, its row deleted: a token naming no pending action
        await db.transaction(
            lambda c2: c2.execute("DELETE FROM pending_actions WHERE conversation = 'c_2'")
        )
    got = await _confirm_as(runner, site, forged, visitor="v_maya", user_id=MAYA)
    assert got.frame.state == "refused" and not got.fresh
    assert refunds(demo) == []
    expected = {"tampered": "tampered", "malformed": "malformed", "unknown": "unknown_pending"}
    assert (await ActionService(db).audit(site))[-1].reason == expected[how]


async def test_a_card_of_another_conversation_does_not_confirm_in_this_one(
    runner: ActionRunner, site: int, demo: DemoServer
) -> None:
    """A token is bound to its conversation: swapping the payload's conversation breaks the MAC."""
    import base64
    import json

    c = (await card(runner, asker(site), "refund_damaged_item", amount_cents=700)).card
    version, payload, mac = c.token.split(".")
    fields = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    fields[3] = "c_other"
    moved = base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")
    got = await _confirm_as(runner, site, f"{version}.{moved}.{mac}", visitor="v_maya",
                            user_id=MAYA)  # fmt: skip
    assert got.frame.state == "refused"
    assert refunds(demo) == []


async def test_an_expired_card_runs_nothing_and_is_expired_once(
    runner: ActionRunner, site: int, demo: DemoServer, db: Database, clock: Clock
) -> None:
    c = (await card(runner, asker(site), "refund_damaged_item", amount_cents=700)).card
    clock.now = c.expires_at
    got = await _confirm_as(runner, site, c.token, visitor="v_maya", user_id=MAYA)
    assert got.frame.state == "expired" and got.fresh
    other = (await card(runner, asker(site), "refund_damaged_item", amount_cents=1)).card
    clock.now = other.expires_at + 1
    swept = await runner.expire_due()
    assert [s.frame.id for s in swept] == [other.id]
    assert await runner.expire_due() == []
    assert refunds(demo) == []
    assert [e for _, e, _ in await events(db, site)].count("expired") == 2


# -- forms, dates, reads ------------------------------------------------------------------


async def test_a_plan_change_asks_for_the_plan_and_runs_with_the_visitors_choice(
    runner: ActionRunner, site: int, demo: DemoServer
) -> None:
    made = await card(runner, asker(site), "change_plan")
    c = made.card
    assert [(f.name, f.kind, f.choices, f.required, f.value) for f in c.fields] == [
        ("plan", "choice", ["basic", "plus", "premium"], True, None),
        ("billing", "choice", ["monthly", "annual"], False, "monthly"),
    ]
    assert c.before == "plus, billed monthly"  # from the identity's traits
    # the sentence is filled in on the card as the visitor chooses
    assert c.template == "Move your Club membership to the {plan} plan, billed {billing}."
    sneaky = await _confirm_as(runner, site, c.token, visitor="v_maya", user_id=MAYA)
    assert sneaky.frame.state == "refused"  # the required plan was not chosen
    again = await card(runner, asker(site), "change_plan")
    bad = await runner.confirm(site_id=site, visitor="v_maya", user_id=MAYA,
                               token=again.card.token,
                               values={"plan": "premium", "account_id": TOMAS})  # fmt: skip
    assert bad is not None and bad.frame.state == "refused"
    assert account(demo, TOMAS)["plan"] == "basic"
    chosen = await card(runner, asker(site), "change_plan")
    done = await runner.confirm(site_id=site, visitor="v_maya", user_id=MAYA,
                                token=chosen.card.token, values={"plan": "premium"})  # fmt: skip
    assert done is not None and done.frame.state == "succeeded"
    assert done.frame.text == "Done — you are now on the premium plan, billed monthly."
    assert account(demo)["plan"] == "premium"


async def test_a_delivery_moves_to_the_chosen_date_and_never_for_another_customers_order(
    runner: ActionRunner, site: int, demo: DemoServer
) -> None:
    with demo.client() as client:
        order = next(o for o in client.get(f"/api/accounts/{MAYA}/orders").json()
                     if o["status"] == "shipped")  # fmt: skip
    import datetime as dt

    day = dt.date.today() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    made = await card(runner, asker(site), "reschedule_delivery", order_id=order["id"])
    assert [(f.name, f.kind) for f in made.card.fields] == [("date", "date")]
    done = await runner.confirm(
        site_id=site,
        visitor="v_maya",
        user_id=MAYA,
        token=made.card.token,
        values={"date": day.isoformat()},
    )
    assert done is not None and done.frame.state == "succeeded", done
    assert done.frame.text == f"Order {order['id']} will now arrive on {day.isoformat()}."
    theirs = await card(runner, asker(site), "reschedule_delivery", order_id="NW-10490")
    failed = await runner.confirm(
        site_id=site,
        visitor="v_maya",
        user_id=MAYA,
        token=theirs.card.token,
        values={"date": day.isoformat()},
    )
    assert failed is not None and failed.frame.state == "failed"
    with demo.client() as client:
        assert client.get("/api/orders/NW-10490").json()["delivery_date"] != day.isoformat()


async def test_order_status_is_answered_from_the_api_with_no_card(
    runner: ActionRunner, site: int, db: Database
) -> None:
    outcome = await runner.propose(asker(site), "order_status", {}, source="matcher")
    assert isinstance(outcome, Ran) and outcome.ok
    assert outcome.text.startswith("Here are your orders:")
    assert "NW-10482: shipped" in outcome.text and "NW-10490" not in outcome.text
    assert await events(db, site) == [
        ("order_status", "proposed", "matcher"), ("order_status", "succeeded", ""),
    ]  # fmt: skip


# -- restarts -----------------------------------------------------------------------------


async def test_a_restart_between_confirm_and_call_makes_the_refund_once(
    runner: ActionRunner, site: int, demo: DemoServer, db: Database, clock: Clock
) -> None:
    c = (await card(runner, asker(site), "refund_damaged_item", amount_cents=1500)).card
    claimed = await runner.claim(site_id=site, visitor="v_maya", user_id=MAYA, token=c.token,
                                 values={})  # fmt: skip
    assert isinstance(claimed, Claimed)  # confirmed, committed, then the process stopped
    restarted = _runner(db, demo, clock)
    try:
        finished = await restarted.recover()
        assert [s.frame.state for s in finished] == ["succeeded"]
        assert await restarted.recover() == []
        repeat = await _confirm_as(restarted, site, c.token, visitor="v_maya", user_id=MAYA)
        assert repeat.frame.state == "succeeded" and not repeat.fresh
    finally:
        await restarted.aclose()
    assert refunds(demo) == [(1500,)]


async def test_a_restart_after_the_api_acted_but_before_the_result_was_stored(
    runner: ActionRunner, site: int, demo: DemoServer, db: Database, clock: Clock
) -> None:
    c = (await card(runner, asker(site), "refund_damaged_item", amount_cents=1600)).card
    claimed = await runner.claim(site_id=site, visitor="v_maya", user_id=MAYA, token=c.token,
                                 values={})  # fmt: skip
    assert isinstance(claimed, Claimed)
    # The first attempt reached the API; its answer never got stored.
    outbound = action_outbound(NetSettings(allow=demo.url))
    try:
        call = build_call(claimed.actions, claimed.action, claimed.called, claimed.row.id)
        await execute(call, outbound, environ={"DEMO_API_KEY": API_KEY})
    finally:
        await outbound.aclose()
    restarted = _runner(db, demo, clock)
    try:
        assert [s.frame.state for s in await restarted.recover()] == ["succeeded"]
    finally:
        await restarted.aclose()
    assert refunds(demo) == [(1600,)]


async def test_open_cards_are_the_visitors_own_under_the_identity_signed_in_now(
    runner: ActionRunner, site: int
) -> None:
    c = (await card(runner, asker(site), "refund_damaged_item", amount_cents=700)).card
    assert [x.id for x in await runner.open_cards(site, "v_maya", MAYA)] == [c.id]
    assert await runner.open_cards(site, "v_maya", None) == []
    assert await runner.open_cards(site, "v_tomas", MAYA) == []
    await runner.decline(site_id=site, visitor="v_maya", user_id=MAYA, token=c.token)
    assert await runner.open_cards(site, "v_maya", MAYA) == []
