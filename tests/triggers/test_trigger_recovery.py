"""Every stored fire ends in an outcome: decided when its visitor returns, expired if too old,
and decided once however many processes try."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

from bpract.store import Database
from bpract.triggers.decider import Decision, DecisionRequest
from bpract.triggers.service import TriggerService
from triggers.support import T0, FakeClock, save

RULE = """
policy: {interruption_budget: 5}
rules:
  - id: r
    when: {page: ["/pricing*"]}
    message: {text: "Comparing plans?"}
    cap: {count: 5, days: 1}
"""


class CountingDecider:
    """Engages after ``pause`` (an event to wait for, when given); counts its calls."""

    def __init__(self, pause: asyncio.Event | None = None) -> None:
        self.pause = pause
        self.calls = 0

    async def decide(self, request: DecisionRequest) -> Decision:
        self.calls += 1
        if self.pause is not None:
            await self.pause.wait()
        return Decision(engage=True, message="hello", cta=None, reason="ok", decided_by="test")


async def take(
    service: TriggerService, site_id: int, seq: int = 1, visitor: str = "v_alice"
) -> int:
    taken = await service.take_fire(
        site_id=site_id, visitor=visitor, session="n_s", rule="r", rule_version=1,
        context={"page": "/pricing"}, at_ms=T0, stream="s_stream", seq=seq,
    )  # fmt: skip
    assert taken.status == "pending"
    return taken.id


def fire_rows(db: Database) -> list[tuple[object, ...]]:
    return db.run_sync(
        lambda c: c.execute("SELECT id, status, outreach_id IS NOT NULL FROM fires").fetchall()
    )


def outreach_count(db: Database) -> int:
    return int(db.run_sync(lambda c: c.execute("SELECT COUNT(*) FROM outreach").fetchone()[0]))


async def test_a_fire_is_taken_once_per_frame(db: Database, clock: FakeClock, site_id: int) -> None:
    service = TriggerService(db, None, now_ms=clock)
    await save(service, site_id, RULE)
    first = await take(service, site_id)
    assert await take(service, site_id) == first  # the same frame, admitted again
    assert await take(service, site_id, seq=2) != first
    assert len(fire_rows(db)) == 2


async def test_a_fire_taken_by_a_process_that_died_is_decided_when_the_visitor_returns(
    db: Database, clock: FakeClock, site_id: int
) -> None:
    dead = TriggerService(db, None, now_ms=clock)
    await save(dead, site_id, RULE)
    fire_id = await take(dead, site_id)  # stored, then the process died before deciding

    clock.advance(3_000)
    restarted = TriggerService(db, None, CountingDecider(), now_ms=clock)
    assert await restarted.undecided(site_id, "v_bob") == []
    assert await restarted.undecided(site_id, "v_alice") == [(fire_id, 0)]
    result = await restarted.decide_fire(fire_id, lang="en")
    assert result.status == "sent" and result.outreach is not None
    assert result.outreach["message"] == "hello"
    assert fire_rows(db) == [(fire_id, "sent", 1)]
    assert await restarted.undecided(site_id, "v_alice") == []


async def test_a_decision_cut_short_waits_for_its_claim_to_lapse(
    db: Database, clock: FakeClock, site_id: int
) -> None:
    pause = asyncio.Event()
    dying = TriggerService(db, None, CountingDecider(pause), now_ms=clock, decider_timeout_s=2)
    await save(dying, site_id, RULE)
    fire_id = await take(dying, site_id)
    deciding = asyncio.create_task(dying.decide_fire(fire_id, lang="en"))
    await asyncio.sleep(0.05)
    assert not deciding.done()  # claimed, the decider thinking: now the process dies
    deciding.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await deciding

    clock.advance(1_000)
    decider = CountingDecider()
    restarted = TriggerService(db, None, decider, now_ms=clock, decider_timeout_s=2)
    # the claim holds for the decider's 2 s and 5 s to store the decision
    assert await restarted.undecided(site_id, "v_alice") == [(fire_id, 6.0)]
    assert (await restarted.decide_fire(fire_id, lang="en")).status == "taken"
    clock.advance(6_000)
    assert (await restarted.decide_fire(fire_id, lang="en")).status == "sent"
    assert decider.calls == 1
    assert fire_rows(db) == [(fire_id, "sent", 1)]


async def test_the_sweep_expires_fires_nobody_decided_in_time(
    db: Database, clock: FakeClock, site_id: int
) -> None:
    service = TriggerService(db, None, now_ms=clock, fire_deadline_s=60)
    await save(service, site_id, RULE)
    old = await take(service, site_id, seq=1)
    clock.advance(50_000)
    fresh = await take(service, site_id, seq=2)
    clock.advance(11_000)  # the first is 61 s old, the second 11 s

    assert await service.expire_undecided() == 1
    statuses = db.run_sync(lambda c: dict(c.execute("SELECT id, status FROM fires").fetchall()))
    assert statuses == {old: "expired", fresh: "pending"}
    reason = db.run_sync(lambda c: c.execute("SELECT reason FROM fires WHERE id = ?", (old,)))
    assert "not decided within 60 s" in reason.fetchone()[0]
    assert await service.undecided(site_id, "v_alice") == [(fresh, 0)]
    assert (await service.decide_fire(old, lang="en")).status == "taken"  # too late now
    assert await service.expire_undecided() == 0

    (report,) = await service.report(site_id)
    assert report.fires == {"expired": 1, "pending": 1}
    assert (report.expired, report.undecided, report.sent) == (1, 1, 0)


async def test_the_sweep_leaves_a_fire_that_is_being_decided(
    db: Database, clock: FakeClock, site_id: int
) -> None:
    pause = asyncio.Event()
    service = TriggerService(db, None, CountingDecider(pause), now_ms=clock, fire_deadline_s=1)
    await save(service, site_id, RULE)
    fire_id = await take(service, site_id)
    deciding = asyncio.create_task(service.decide_fire(fire_id, lang="en"))
    await asyncio.sleep(0.05)
    clock.advance(2_000)  # past the deadline, inside the claim
    assert await service.expire_undecided() == 0
    pause.set()
    assert (await deciding).status == "sent"


async def test_a_fire_is_decided_once_however_many_processes_try(
    db_path: Path, db: Database, clock: FakeClock, site_id: int
) -> None:
    pause = asyncio.Event()
    second = Database(db_path)
    try:
        deciders = [CountingDecider(pause), CountingDecider(pause)]
        services = [TriggerService(d, None, c, now_ms=clock)
                    for d, c in zip((db, second), deciders, strict=True)]  # fmt: skip
        await save(services[0], site_id, RULE)
        fire_id = await take(services[0], site_id)
        tries = [
            asyncio.create_task(service.decide_fire(fire_id, lang="en"))
            for service in services
            for _ in range(5)
        ]
        await asyncio.sleep(0.05)
        pause.set()
        results = await asyncio.gather(*tries)
    finally:
        second.close()
    assert sorted(r.status for r in results) == ["sent"] + ["taken"] * 9
    assert sum(d.calls for d in deciders) == 1
    assert outreach_count(db) == 1
