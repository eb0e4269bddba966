"""Policy outcomes, in order: schedule, holdout, cap, cooldown, budget; atomic under concurrency."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bpract.store import Database
from bpract.triggers.decider import Decision, DecisionRequest
from bpract.triggers.policy import holdout_bucket, is_held_out, schedule_refusal
from bpract.triggers.service import TriggerService
from bpract.triggers.spec import load_rule
from bpract_client.rules import Schedule
from triggers.support import DAY, HOUR, MINUTE, T0, FakeClock, fire, save


def one_rule(**fields: object) -> str:
    rule = {"id": "r", "message": {"text": "hello"}, "cap": {"count": 100, "days": 1}} | fields
    return json.dumps({"policy": {"interruption_budget": 100}, "rules": [rule]})


def fires_table(db: Database) -> list[tuple[object, ...]]:
    return db.run_sync(
        lambda conn: list(
            conn.execute(
                "SELECT visitor, rule_id, status, reason, outreach_id, context, at_ms, received_ms"
                " FROM fires ORDER BY id"
            )
        )
    )


async def test_a_passing_fire_is_sent_and_stored(
    service: TriggerService, db: Database, site_id: int, clock: FakeClock
) -> None:
    await save(service, site_id, one_rule(message={"text": "hi", "cta": {"label": "Go"}}))
    status, reason, outreach = await fire(service, site_id, "r", at_ms=T0 - 500)
    assert status == "sent"
    assert reason == "the rule's message"
    assert outreach is not None
    assert outreach["message"] == "hi"
    assert outreach["cta"] == {"label": "Go", "url": None}
    assert outreach["rule"] == "r"
    assert str(outreach["id"]).startswith("o_")
    assert len(str(outreach["id"])) == 24
    ((visitor, rule, st, _, oid, context, at_ms, received_ms),) = fires_table(db)
    assert (visitor, rule, st, oid) == ("v_alice", "r", "sent", outreach["id"])
    assert json.loads(str(context)) == {"page": "/pricing"}
    assert (at_ms, received_ms) == (T0 - 500, clock.now)
    row = db.run_sync(
        lambda c: c.execute("SELECT visitor, rule_id, message, decided_by FROM outreach").fetchone()
    )
    assert row == ("v_alice", "r", "hi", "rule")


PARIS_WORKDAY = {
    "days": ["mon", "tue", "wed", "thu", "fri"],
    "start": "09:00",
    "end": "18:00",
    "tz": "Europe/Paris",
}


@pytest.mark.parametrize(
    ("offset_ms", "inside"),
    [
        (0, True),  # Thursday 11:00 in Paris
        (-2 * HOUR, True),  # 09:00 Paris: the start is inclusive
        (-2 * HOUR - MINUTE, False),  # 08:59 Paris
        (7 * HOUR - MINUTE, True),  # 17:59 Paris
        (7 * HOUR, False),  # 18:00 Paris: the end is exclusive
        (2 * DAY, False),  # Saturday
    ],
)
def test_schedule_window(offset_ms: int, inside: bool) -> None:
    workday = Schedule(days=["mon", "tue", "wed", "thu", "fri"], tz="Europe/Paris")
    refusal = schedule_refusal(workday, T0 + offset_ms)
    assert (refusal is None) is inside
    if refusal:
        assert refusal.status == "off_schedule"
        assert "Europe/Paris" in refusal.reason


def test_an_overnight_schedule_spans_midnight() -> None:
    night = Schedule(days=["thu", "fri"], start="22:00", end="06:00", tz="UTC")
    assert schedule_refusal(night, T0) is not None  # 10:00
    assert schedule_refusal(night, T0 + 12 * HOUR + 30 * MINUTE) is None  # Thu 22:30
    assert schedule_refusal(night, T0 + 19 * HOUR) is None  # Fri 05:00
    assert schedule_refusal(night, T0 + 20 * HOUR) is not None  # Fri 06:00


async def test_off_schedule_is_recorded(
    service: TriggerService, site_id: int, clock: FakeClock, db: Database
) -> None:
    await save(service, site_id, one_rule(schedule=PARIS_WORKDAY))
    assert (await fire(service, site_id, "r"))[0] == "sent"
    clock.advance(2 * DAY)
    status, reason, outreach = await fire(service, site_id, "r")
    assert (status, outreach) == ("off_schedule", None)
    assert reason.startswith("sat ")
    assert [row[2] for row in fires_table(db)] == ["sent", "off_schedule"]


def test_holdout_is_deterministic_and_about_the_share_asked() -> None:
    rule = load_rule("id: r\nmessage: {text: hi}\nholdout: 10")
    visitors = [f"v_{i:06d}" for i in range(10_000)]
    held = [v for v in visitors if is_held_out(7, rule, v)]
    assert 900 <= len(held) <= 1100
    assert held == [v for v in visitors if is_held_out(7, rule, v)]
    assert held != [v for v in visitors if is_held_out(8, rule, v)]  # salted by site


def test_holdout_bucket_is_the_documented_hash() -> None:
    import hashlib

    digest = hashlib.sha256(b"3:pricing-offer:v_abc").digest()
    assert holdout_bucket(3, "pricing-offer", "v_abc") == int.from_bytes(digest[:8], "big") % 10_000


async def test_held_out_visitors_are_recorded_and_never_messaged(
    service: TriggerService, site_id: int
) -> None:
    await save(service, site_id, one_rule(holdout=50))
    rule = (await service.ruleset(site_id)).rules[0]
    held = next(f"v_{i}" for i in range(100) if is_held_out(site_id, rule, f"v_{i}"))
    shown = next(f"v_{i}" for i in range(100) if not is_held_out(site_id, rule, f"v_{i}"))
    for _ in range(3):
        status, reason, outreach = await fire(service, site_id, "r", held)
        assert (status, outreach) == ("held_out", None)
        assert "50% holdout" in reason
    assert (await fire(service, site_id, "r", shown))[0] == "sent"


async def test_cap_counts_messages_in_its_window(
    service: TriggerService, site_id: int, clock: FakeClock
) -> None:
    await save(service, site_id, one_rule(cap={"count": 2, "days": 7}))
    assert (await fire(service, site_id, "r"))[0] == "sent"
    clock.advance(HOUR)
    assert (await fire(service, site_id, "r"))[0] == "sent"
    clock.advance(HOUR)
    status, reason, _ = await fire(service, site_id, "r")
    assert status == "capped"
    assert reason == "2 message(s) in the last 7 day(s), cap 2"
    assert (await fire(service, site_id, "r", "v_bob"))[0] == "sent"  # per visitor
    clock.advance(7 * DAY - 2 * HOUR - 1)
    assert (await fire(service, site_id, "r"))[0] == "capped"  # the first is just inside
    clock.advance(1)
    assert (await fire(service, site_id, "r"))[0] == "sent"


async def test_cooldown_since_the_last_message(
    service: TriggerService, site_id: int, clock: FakeClock
) -> None:
    await save(service, site_id, one_rule(cooldown="1h"))
    assert (await fire(service, site_id, "r"))[0] == "sent"
    clock.advance(30 * MINUTE)
    status, reason, _ = await fire(service, site_id, "r")
    assert status == "cooldown"
    assert reason == "last message 1800 s ago, cooldown 3600 s"
    clock.advance(30 * MINUTE - 1)
    assert (await fire(service, site_id, "r"))[0] == "cooldown"
    clock.advance(1)
    assert (await fire(service, site_id, "r"))[0] == "sent"


BUDGET = """
policy: {interruption_budget: 2}
rules:
  - {id: a, message: {text: a}, cap: {count: 10}}
  - {id: b, message: {text: b}, cap: {count: 10}}
  - {id: c, message: {text: c}, cap: {count: 10}}
"""


async def test_budget_counts_every_rule_over_24_hours(
    service: TriggerService, site_id: int, clock: FakeClock
) -> None:
    await save(service, site_id, BUDGET)
    assert (await fire(service, site_id, "a"))[0] == "sent"
    clock.advance(HOUR)
    assert (await fire(service, site_id, "b"))[0] == "sent"
    status, reason, _ = await fire(service, site_id, "c")
    assert status == "budget"
    assert reason == "2 message(s) to this visitor in the last 24 h, budget 2"
    assert (await fire(service, site_id, "c", "v_bob"))[0] == "sent"
    clock.advance(23 * HOUR - 1)
    assert (await fire(service, site_id, "c"))[0] == "budget"  # "a" is just under 24 h old
    clock.advance(1)
    assert (await fire(service, site_id, "c"))[0] == "sent"


async def test_a_zero_budget_refuses_everything(service: TriggerService, site_id: int) -> None:
    await save(
        service, site_id, "policy: {interruption_budget: 0}\nrules: [{id: a, message: {text: a}}]"
    )
    assert (await fire(service, site_id, "a"))[0] == "budget"


async def test_refusals_are_not_messages(
    service: TriggerService, site_id: int, clock: FakeClock
) -> None:
    await save(service, site_id, one_rule(cap={"count": 1, "days": 1}))
    assert (await fire(service, site_id, "r"))[0] == "sent"
    for _ in range(5):
        assert (await fire(service, site_id, "r"))[0] == "capped"
    clock.advance(DAY)
    assert (await fire(service, site_id, "r"))[0] == "sent"


async def test_checks_run_in_the_documented_order(
    service: TriggerService, site_id: int, clock: FakeClock
) -> None:
    doc = {
        "policy": {"interruption_budget": 1},
        "rules": [
            {"id": "s", "message": {"text": "s"}, "schedule": PARIS_WORKDAY, "holdout": 100},
            {"id": "h", "message": {"text": "h"}, "holdout": 100},
            {"id": "c", "message": {"text": "c"}, "cooldown": "1d", "cap": {"count": 1}},
            {"id": "d", "message": {"text": "d"}, "cooldown": "1d", "cap": {"count": 5}},
        ],
    }
    await save(service, site_id, json.dumps(doc))
    clock.advance(2 * DAY)  # Saturday
    assert (await fire(service, site_id, "s"))[0] == "off_schedule"  # before holdout
    assert (await fire(service, site_id, "h"))[0] == "held_out"
    assert (await fire(service, site_id, "c"))[0] == "sent"
    assert (await fire(service, site_id, "c"))[0] == "capped"  # cap before cooldown
    assert (await fire(service, site_id, "d"))[0] == "budget"
    doc["policy"] = {"interruption_budget": 5}
    await save(service, site_id, json.dumps(doc))
    assert (await fire(service, site_id, "d", version=2))[0] == "sent"
    assert (await fire(service, site_id, "d", version=2))[0] == "cooldown"  # before budget


class SlowDecider:
    """Engages after a pause, so concurrent fires overlap while deciding."""

    def __init__(self, pause_s: float) -> None:
        self.pause_s = pause_s
        self.calls = 0

    async def decide(self, request: DecisionRequest) -> Decision:
        self.calls += 1
        await asyncio.sleep(self.pause_s)
        return Decision(engage=True, message="slow", cta=None, reason="slow", decided_by="slow")


async def test_concurrent_fires_cannot_both_pass_a_cap_of_one(
    db: Database, clock: FakeClock, site_id: int
) -> None:
    decider = SlowDecider(0.05)
    service = TriggerService(db, None, decider, now_ms=clock)
    await save(service, site_id, one_rule(cap={"count": 1, "days": 1}))
    results = await asyncio.gather(*(fire(service, site_id, "r") for _ in range(20)))
    statuses = sorted(status for status, _, _ in results)
    assert statuses == ["capped"] * 19 + ["sent"]
    assert decider.calls == 1


async def test_concurrent_fires_through_two_connections_respect_the_budget(
    db_path: Path, db: Database, clock: FakeClock, site_id: int
) -> None:
    second = Database(db_path)
    try:
        first_service = TriggerService(db, None, SlowDecider(0.01), now_ms=clock)
        second_service = TriggerService(second, None, SlowDecider(0.01), now_ms=clock)
        await save(first_service, site_id, BUDGET.replace("budget: 2", "budget: 1"))
        calls = [
            fire(svc, site_id, rule)
            for svc in (first_service, second_service)
            for rule in ("a", "b", "c")
            for _ in range(4)
        ]
        results = await asyncio.gather(*calls)
    finally:
        second.close()
    statuses = sorted(status for status, _, _ in results)
    assert statuses == ["budget"] * 23 + ["sent"]


async def test_a_pending_fire_older_than_its_deadline_stops_counting(
    db: Database, clock: FakeClock, site_id: int
) -> None:
    # A pending fire may be claimed until its deadline (60 s), and then decided within the
    # claim: the decider's timeout (1 s) and 5 s to store the decision.
    service = TriggerService(db, None, now_ms=clock, decider_timeout_s=1, fire_deadline_s=60)
    await save(service, site_id, one_rule(cap={"count": 1, "days": 1}))
    db.run_sync(
        lambda c: c.execute(
            "INSERT INTO fires (site_id, visitor, rule_id, rule_version, at_ms, received_ms,"
            " status) VALUES (?, 'v_alice', 'r', 1, ?, ?, 'pending')",
            (site_id, clock.now, clock.now),
        )
    )
    assert (await fire(service, site_id, "r"))[0] == "capped"
    clock.advance(66_000)
    assert (await fire(service, site_id, "r"))[0] == "capped"
    clock.advance(1)
    assert (await fire(service, site_id, "r"))[0] == "sent"


async def test_no_outreach_while_the_visitor_is_with_a_person(
    db: Database, site_id: int, clock: FakeClock
) -> None:
    from bpract.chat import storage as chat

    window = DAY
    service = TriggerService(
        db, None, now_ms=clock,
        busy=lambda conn, site, visitor, now: chat.with_person(conn, site, visitor, now - window),
    )  # fmt: skip
    await save(service, site_id, one_rule())

    def handed_off(visitor: str, at_ms: int) -> None:
        def write(conn: object) -> None:
            conv, _ = chat.open_conversation(conn, site_id, visitor, at_ms, since_ms=at_ms,
                                             outreach_id=None)  # fmt: skip
            chat.hand_off(conn, site_id, conv.id, at_ms=at_ms, reason="asked", department="support")

        db.run_sync(write)

    handed_off("v_alice", clock.now - HOUR)
    handed_off("v_carol", clock.now - 2 * DAY)  # long ago: outreach again
    assert (await fire(service, site_id, "r", "v_alice"))[:2] == (
        "with_person", "the visitor is talking to a person")  # fmt: skip
    assert (await fire(service, site_id, "r", "v_bob"))[0] == "sent"
    assert (await fire(service, site_id, "r", "v_carol"))[0] == "sent"
    statuses = [row[:3] for row in fires_table(db)]
    assert statuses == [("v_alice", "r", "with_person"), ("v_bob", "r", "sent"),
                        ("v_carol", "r", "sent")]  # fmt: skip
