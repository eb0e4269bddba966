"""The weekly review sample: risk weights, reproducible draws, idempotence, the report."""

from __future__ import annotations

import random

import pytest

from bpract.quality import review_items, sample_week, set_verdict, week_figures
from bpract.quality.report import weighted_share
from bpract.quality.risk import risk_of
from bpract.quality.sampling import inclusion_probabilities, sample_keys
from bpract.quality.weeks import last_weeks, week_bounds, week_of
from bpract.store import Database
from quality.conftest import MONDAY_MS, WEEK, Chat

NOW = MONDAY_MS + 3 * 86_400_000


def test_weeks() -> None:
    start, end = week_bounds(WEEK)
    assert (start, end - start) == (MONDAY_MS, 7 * 86_400_000)
    assert week_of(start) == WEEK and week_of(end - 1) == WEEK and week_of(end) == "2026-W49"
    assert last_weeks(NOW, 3) == ["2026-W46", "2026-W47", "2026-W48"]
    assert week_of(week_bounds("2026-W01")[0]) == "2026-W01"
    for bad in ("2026-48", "2026-W54", "W48", "2026-W48; DROP"):
        with pytest.raises(ValueError):
            week_bounds(bad)


def test_risk_weights_and_reasons() -> None:
    calm = risk_of(grounding=1.0, actions=False, question="Where is Lyon?", answer="In France.",
                   rating="up")  # fmt: skip
    assert (calm.weight, calm.reasons) == (1.0, [])
    risky = risk_of(grounding=0.2, actions=True, question="Can I get a refund of €40?",
                    answer="Yes.", rating="down")  # fmt: skip
    assert risky.reasons == ["low_grounding", "actions", "money", "thumbs_down"]
    assert risky.weight == pytest.approx(1 + 2 * 0.8 + 1.5 + 3)
    ungraded = risk_of(grounding=None, actions=False, question="Hi", answer="The price is 5 EUR",
                       rating=None)  # fmt: skip
    assert ungraded.reasons == ["ungraded", "money"]


def test_draws_are_reproducible_and_lean_towards_weight() -> None:
    weights = {f"r_{i}": (10.0 if i < 10 else 1.0) for i in range(100)}
    first = sample_keys("1:2026-W48", weights)
    assert first == sample_keys("1:2026-W48", dict(reversed(list(weights.items()))))
    assert first != sample_keys("1:2026-W49", weights)
    heavy = sum(sum(k in {f"r_{i}" for i in range(10)} for k in sample_keys(f"s{s}", weights)[:10])
                for s in range(200))  # fmt: skip
    pi = inclusion_probabilities(weights, 10)
    # A uniform draw would put 1 heavy item in 10 slots; weight 10 puts ~4.5 there.
    assert heavy / 200 > 3.5
    assert heavy / 200 == pytest.approx(10 * pi["r_0"], abs=0.4)
    assert sum(pi.values()) == pytest.approx(10, abs=1e-6)
    assert pi["r_0"] > pi["r_50"]
    assert inclusion_probabilities(weights, 200) == dict.fromkeys(weights, 1.0)


def test_inclusion_probabilities_match_the_draw() -> None:
    weights = {f"r_{i}": 1.0 + (i % 5) for i in range(30)}
    pi = inclusion_probabilities(weights, 6)
    counts = dict.fromkeys(weights, 0)
    runs = 3000
    for s in range(runs):
        for k in sample_keys(f"seed{s}", weights)[:6]:
            counts[k] += 1
    worst = max(abs(counts[k] / runs - pi[k]) for k in weights)
    assert worst < 0.05


def judge(db: Database, site_id: int, message_id: str, verdict: str) -> bool:
    return db.run_sync(
        lambda c: set_verdict(
            c, site_id, message_id, verdict=verdict, reviewer="ana", note=None, now_ms=NOW
        )
    )


def fill_week(chat: Chat) -> dict[str, str]:
    ids = {}
    for i in range(40):
        ids[f"calm{i}"] = chat.turn(1, f"v{i}", "Where do you ship?", "To ten EU countries.",
                                    at_ms=MONDAY_MS + i * 1000, grounding=1.0)  # fmt: skip
    for i in range(5):
        ids[f"risky{i}"] = chat.turn(1, f"w{i}", "Refund my €80 order", "Done, €80 refunded.",
                                     at_ms=MONDAY_MS + 50_000 + i, grounding=0.1,
                                     actions=True, rating="down")  # fmt: skip
    ids["unknown"] = chat.turn(1, "u", "Meaning of life?", "I don't know.", kind="unknown",
                               grounding=None, rating="down")  # fmt: skip
    ids["handoff"] = chat.turn(1, "h", "A human please", "Passing you on.", kind="handoff")
    ids["last_week"] = chat.turn(1, "x", "Refund?", "Sure.", at_ms=MONDAY_MS - 1, rating="down")
    ids["other_site"] = chat.turn(2, "y", "Refund €9?", "Sure.", at_ms=MONDAY_MS + 5, rating="down")
    return ids


def test_sample_is_risky_idempotent_and_tops_up(db: Database, chat: Chat) -> None:
    ids = fill_week(chat)
    added = db.run_sync(lambda c: sample_week(c, 1, WEEK, n=8, now_ms=NOW))
    items = db.run_sync(lambda c: review_items(c, 1, week=WEEK))
    assert added == len(items) == 8
    picked = {i.message_id for i in items}
    assert not picked & {ids["unknown"], ids["handoff"], ids["last_week"], ids["other_site"]}
    assert sum(ids[f"risky{i}"] in picked for i in range(5)) >= 3  # weight 8.1 against 1
    top = items[0]
    assert top.reasons == ["low_grounding", "actions", "money", "thumbs_down"]
    assert (top.question, top.answer, top.rating) == ("Refund my €80 order", "Done, €80 refunded.",
                                                     "down")  # fmt: skip
    assert 0 < top.inclusion <= 1 and top.week == WEEK
    # A verdict, then a second run: nothing is redrawn and the verdict stays.
    assert db.run_sync(
        lambda c: set_verdict(
            c,
            1,
            top.message_id,
            verdict="hallucination",
            reviewer="ana",
            note="no such refund",
            now_ms=NOW,
        )
    )
    assert db.run_sync(lambda c: sample_week(c, 1, WEEK, n=8, now_ms=NOW + 1)) == 0
    again = db.run_sync(lambda c: review_items(c, 1, week=WEEK))
    assert {i.message_id for i in again} == picked
    assert again[0].verdict == "hallucination" and again[0].reviewer == "ana"
    # A bigger sample only adds.
    assert db.run_sync(lambda c: sample_week(c, 1, WEEK, n=10, now_ms=NOW + 2)) == 2
    assert picked < {i.message_id for i in db.run_sync(lambda c: review_items(c, 1, week=WEEK))}


def test_same_draw_in_another_database(db: Database, chat: Chat, tmp_path: object) -> None:
    fill_week(chat)
    db.run_sync(lambda c: sample_week(c, 1, WEEK, n=5, now_ms=NOW))
    first = {i.message_id for i in db.run_sync(lambda c: review_items(c, 1, week=WEEK))}
    db.run_sync(lambda c: c.execute("DELETE FROM reviews"))
    db.run_sync(lambda c: sample_week(c, 1, WEEK, n=5, now_ms=NOW + 99))
    assert {i.message_id for i in db.run_sync(lambda c: review_items(c, 1, week=WEEK))} == first


def test_verdicts_refuse_other_sites_and_bad_values(db: Database, chat: Chat) -> None:
    ids = fill_week(chat)
    db.run_sync(lambda c: sample_week(c, 2, WEEK, n=5, now_ms=NOW))
    [theirs] = db.run_sync(lambda c: review_items(c, 2, week=WEEK))
    assert theirs.message_id == ids["other_site"]
    assert not judge(db, 1, theirs.message_id, "grounded")
    assert db.run_sync(lambda c: review_items(c, 1, message_id=theirs.message_id)) == []
    with pytest.raises(ValueError, match="verdict"):
        db.run_sync(lambda c: set_verdict(c, 2, theirs.message_id, verdict="fine",
                                          reviewer="ana", note=None, now_ms=NOW))  # fmt: skip
    with pytest.raises(ValueError):
        db.run_sync(lambda c: sample_week(c, 1, WEEK, n=0, now_ms=NOW))


def test_weighted_rate_corrects_the_risky_sample() -> None:
    """Risky answers hallucinate more and are drawn more: the raw rate overstates, the weighted
    one does not (averaged over many draws of the same week)."""
    rng = random.Random(7)
    risky = {f"r_{i}": i % 10 == 0 for i in range(400)}
    truth = {k: rng.random() < (0.5 if r else 0.05) for k, r in risky.items()}
    weights = {k: risk_of(grounding=0.1 if r else 0.95, actions=False, question="",
                          answer="€1" if r else "", rating=None).weight
               for k, r in risky.items()}  # fmt: skip
    pi = inclusion_probabilities(weights, 60)
    raw, weighted = [], []
    for s in range(300):
        drawn = sample_keys(f"week{s}", weights)[:60]
        reviewed = [("hallucination" if truth[k] else "grounded", pi[k]) for k in drawn]
        raw.append(sum(v == "hallucination" for v, _ in reviewed) / 60)
        weighted.append(weighted_share(reviewed, "hallucination") or 0.0)
    true_rate = sum(truth.values()) / len(truth)
    assert sum(raw) / 300 > true_rate + 0.04
    assert abs(sum(weighted) / 300 - true_rate) < 0.01


def test_week_figures(db: Database, chat: Chat) -> None:
    fill_week(chat)
    db.run_sync(lambda c: sample_week(c, 1, WEEK, n=3, now_ms=NOW))
    items = db.run_sync(lambda c: review_items(c, 1, week=WEEK))
    for item, verdict in zip(items, ("hallucination", "partial", "grounded"), strict=True):
        judge(db, 1, item.message_id, verdict)
    f = db.run_sync(lambda c: week_figures(c, 1, WEEK))
    assert (f.answers, f.graded, f.ratings, f.thumbs_down) == (45, 45, 5, 5)
    assert f.average_grounding == pytest.approx((40 * 1.0 + 5 * 0.1) / 45, abs=1e-4)
    assert (f.sampled, f.reviewed, f.hallucinations, f.partial, f.grounded) == (3, 3, 1, 1, 1)
    assert f.rate == pytest.approx(1 / 3, abs=1e-4) and f.thumbs_down_rate == 1.0
    empty = db.run_sync(lambda c: week_figures(c, 1, "2026-W47"))
    assert (empty.answers, empty.reviewed, empty.rate, empty.weighted_rate) == (1, 0, None, None)
