"""Outcomes (tenant-isolated, once per kind) and the per-rule report with conversion and lift."""

from __future__ import annotations

import pytest

from bpract.store import Database
from bpract.triggers.lift import (
    NOT_YET_CONCLUSIVE,
    Arm,
    absolute_difference,
    relative_lift,
    sample_size,
    srm_check,
)
from bpract.triggers.policy import holdout_bucket
from bpract.triggers.report import NO_HOLDOUT
from bpract.triggers.service import TriggerService
from triggers.support import DAY, T0, FakeClock, fire, save

RULES = """
policy: {interruption_budget: 100}
rules:
  - {id: offer, message: {text: hi}, holdout: 50, cap: {count: 100}}
  - {id: quiet, message: {text: never fires}}
"""


async def sent_outreach(service: TriggerService, site_id: int, visitor: str = "v_alice") -> str:
    await save(service, site_id, "rules: [{id: r, message: {text: hi}}]")
    status, _, outreach = await fire(service, site_id, "r", visitor)
    assert status == "sent"
    assert outreach is not None
    return str(outreach["id"])


async def outcome(
    service: TriggerService, site_id: int, outreach_id: str, kind: str, visitor: str = "v_alice"
) -> bool:
    return await service.record_outcome(
        site_id=site_id, visitor=visitor, outreach_id=outreach_id, kind=kind, at_ms=T0
    )


async def test_outcomes_are_recorded_once_per_kind(service: TriggerService, site_id: int) -> None:
    oid = await sent_outreach(service, site_id)
    assert await outcome(service, site_id, oid, "shown")
    assert not await outcome(service, site_id, oid, "shown")
    assert await outcome(service, site_id, oid, "clicked")


async def test_another_sites_outreach_id_is_refused(
    service: TriggerService, site_id: int, other_site_id: int, db: Database
) -> None:
    oid = await sent_outreach(service, site_id)
    assert not await outcome(service, other_site_id, oid, "clicked")
    assert db.run_sync(lambda c: c.execute("SELECT COUNT(*) FROM outcomes").fetchone()) == (0,)


async def test_another_visitors_outreach_id_is_refused(
    service: TriggerService, site_id: int
) -> None:
    oid = await sent_outreach(service, site_id)
    assert not await outcome(service, site_id, oid, "clicked", visitor="v_mallory")


@pytest.mark.parametrize(("oid", "kind"), [("o_doesnotexist0000000000", "shown"), (None, "liked")])
async def test_unknown_outreach_or_kind_is_refused(
    service: TriggerService, site_id: int, oid: str | None, kind: str
) -> None:
    real = await sent_outreach(service, site_id)
    assert not await outcome(service, site_id, oid or real, kind)


def add_purchase(db: Database, site_id: int, visitor: str, at_ms: int) -> None:
    db.run_sync(
        lambda c: c.execute(
            "INSERT INTO signals (site_id, visitor, session, name, at_ms, data)"
            " VALUES (?, ?, 'n_s', 'purchase', ?, '{}')",
            (site_id, visitor, at_ms),
        )
    )


async def test_report_compares_treated_and_held_out_visitors(
    service: TriggerService, db: Database, site_id: int, other_site_id: int, clock: FakeClock
) -> None:
    await save(service, site_id, RULES)
    sent: list[str] = []
    held: list[str] = []
    for i in range(40):
        visitor = f"v_{i:03d}"
        status, _, outreach = await fire(service, site_id, "offer", visitor, at_ms=T0)
        (sent if status == "sent" else held).append(visitor)
        if outreach is not None and i % 2 == 0:
            await outcome(service, site_id, str(outreach["id"]), "shown", visitor)
    assert len(sent) >= 4
    assert len(held) >= 4
    # a second fire of the same visitor does not count them twice
    await fire(service, site_id, "offer", sent[0], at_ms=T0 + 1)
    for visitor in sent[:4]:
        add_purchase(db, site_id, visitor, T0 + 1_000)
    for visitor in held[:2]:
        add_purchase(db, site_id, visitor, T0 + 1_000)
    add_purchase(db, site_id, held[2], T0 - 1_000)  # bought before the fire: not a conversion
    add_purchase(db, other_site_id, held[3], T0 + 1_000)  # another site's purchase

    reports = {r.rule: r for r in await service.report(site_id, days=30)}
    offer = reports["offer"]
    assert offer.fires == {"sent": len(sent) + 1, "held_out": len(held)}
    assert (offer.sent, offer.held_out) == (len(sent) + 1, len(held))
    assert offer.outcomes == {"shown": len([v for v in sent if int(v[2:]) % 2 == 0])}
    assert (offer.treated.visitors, offer.treated.converted) == (len(sent), 4)
    assert (offer.control.visitors, offer.control.converted) == (len(held), 2)
    sent_rate, held_rate = 4 / len(sent), 2 / len(held)
    assert offer.treated.rate == pytest.approx(sent_rate)
    treated = Arm(visitors=len(sent), converted=4)
    control = Arm(visitors=len(held), converted=2)
    assert offer.lift is not None
    assert offer.lift.estimate == pytest.approx((sent_rate - held_rate) / held_rate)
    assert offer.lift == relative_lift(treated, control)
    assert offer.difference == absolute_difference(treated, control)
    assert offer.srm == srm_check(len(sent), len(held), 0.50)
    assert offer.sample_size_needed == sample_size(held_rate, 0.10, 0.50)
    assert offer.sample_size_needed is not None
    assert offer.sample_size_needed > 40
    assert (offer.sample_reached, offer.verdict) == (False, NOT_YET_CONCLUSIVE)
    quiet = reports["quiet"]
    assert (quiet.fires, quiet.sent, quiet.lift, quiet.treated.rate) == ({}, 0, None, None)
    assert (quiet.srm, quiet.sample_size_needed, quiet.verdict) == (None, None, NO_HOLDOUT)


async def test_report_window(service: TriggerService, site_id: int, clock: FakeClock) -> None:
    await save(service, site_id, "rules: [{id: r, message: {text: hi}, cap: {count: 10}}]")
    await fire(service, site_id, "r", "v_old")
    clock.advance(10 * DAY)
    await fire(service, site_id, "r", "v_new")
    (week,) = await service.report(site_id, days=7)
    assert week.fires == {"sent": 1}
    (month,) = await service.report(site_id, days=30)
    assert month.fires == {"sent": 2}


ITT_RULES = """
policy: {interruption_budget: 100}
rules:
  - {id: capped, message: {text: hi}, cap: {count: 1, days: 7}}
  - {id: cool, message: {text: hi}, cap: {count: 100}, cooldown: 2d}
"""


async def test_a_visitor_refused_by_cap_or_cooldown_is_treated(
    service: TriggerService, db: Database, site_id: int, clock: FakeClock
) -> None:
    await save(service, site_id, ITT_RULES)
    assert (await fire(service, site_id, "capped", "v_a", at_ms=clock.now))[0] == "sent"
    assert (await fire(service, site_id, "cool", "v_b", at_ms=clock.now))[0] == "sent"
    clock.advance(DAY)  # the messages fall out of a half-day report, not out of cap and cooldown
    assert (await fire(service, site_id, "capped", "v_a", at_ms=clock.now))[0] == "capped"
    assert (await fire(service, site_id, "cool", "v_b", at_ms=clock.now))[0] == "cooldown"
    add_purchase(db, site_id, "v_a", clock.now + 1_000)

    reports = {r.rule: r for r in await service.report(site_id, days=0.5)}
    capped, cool = reports["capped"], reports["cool"]
    assert (capped.fires, cool.fires) == ({"capped": 1}, {"cooldown": 1})
    assert (capped.treated.visitors, capped.treated.converted) == (1, 1)
    assert (cool.treated.visitors, cool.treated.converted) == (1, 0)
    assert capped.control.visitors == cool.control.visitors == 0


def _visitors(site_id: int, held_out: bool, count: int) -> list[str]:
    """Visitors who are (or are not) in the 50 % holdout of rule ``offer``."""
    found = (f"v_{i:04d}" for i in range(1000))
    return [v for v in found if (holdout_bucket(site_id, "offer", v) < 5000) == held_out][:count]


async def test_the_first_eligible_fire_sets_the_arm(
    service: TriggerService, db: Database, site_id: int
) -> None:
    await save(service, site_id, "rules: [{id: offer, message: {text: hi}, holdout: 50,"
               " cap: {count: 100}, schedule: {days: [sat]}}]")  # fmt: skip
    (treated,) = _visitors(site_id, held_out=False, count=1)
    held, late = _visitors(site_id, held_out=True, count=2)
    for visitor in (treated, held, late):  # Thursday: outside the schedule, no arm yet
        assert (await fire(service, site_id, "offer", visitor, at_ms=T0))[0] == "off_schedule"
    add_purchase(db, site_id, treated, T0 + 1_000)  # before its first eligible fire
    add_purchase(db, site_id, late, T0 + 1_000)  # never has an eligible fire
    await save(service, site_id, "rules: [{id: offer, message: {text: hi}, holdout: 50}]")
    assert (await fire(service, site_id, "offer", treated, version=2, at_ms=T0 + 2_000))[
        0
    ] == "sent"
    assert (await fire(service, site_id, "offer", held, version=2, at_ms=T0 + 2_000))[0] == (
        "held_out"
    )
    add_purchase(db, site_id, held, T0 + 3_000)  # after the first eligible fire, not the last
    assert (await fire(service, site_id, "offer", held, version=2, at_ms=T0 + 5_000))[0] == (
        "held_out"
    )

    (offer,) = await service.report(site_id, days=30)
    assert offer.fires == {"off_schedule": 3, "sent": 1, "held_out": 2}
    assert (offer.treated.visitors, offer.treated.converted) == (1, 0)
    assert (offer.control.visitors, offer.control.converted) == (1, 1)
    assert offer.lift is not None
    assert offer.lift.estimate == -1
