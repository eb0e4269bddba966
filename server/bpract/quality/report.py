"""The hallucination rate per week, from reviewers' verdicts on the risk-weighted samples.

Two rates are given.  ``rate`` is the share of reviewed answers judged
hallucinations: the sample leans towards risky answers, so it overstates the
rate over all answers.  ``weighted_rate`` corrects that: each reviewed answer
counts ``1 / inclusion`` (its estimated probability of being drawn), a Hájek
inverse-probability-weighted estimate of the rate over all of the week's answers.
"""

from __future__ import annotations

from collections.abc import Sequence

import apsw
import msgspec

from bpract.chat.answers import answer_figures
from bpract.quality.weeks import week_bounds

__all__ = ["RATE_NOTE", "WeekFigures", "week_figures", "weighted_share"]

RATE_NOTE = (
    "rate and partial_rate are shares of the reviewed sample, which is drawn towards risky "
    "answers; weighted_rate and weighted_partial_rate weigh each verdict by 1/inclusion "
    "probability (Hájek estimator) to estimate the rate over all of the week's answers."
)


class WeekFigures(msgspec.Struct, frozen=True, kw_only=True):
    """One week of answers, ratings and verdicts."""

    week: str
    answers: int
    graded: int
    average_grounding: float | None
    ratings: int
    thumbs_down: int
    thumbs_down_rate: float | None
    sampled: int
    reviewed: int
    grounded: int
    hallucinations: int
    partial: int
    rate: float | None
    partial_rate: float | None
    weighted_rate: float | None
    weighted_partial_rate: float | None


def _ratio(part: float, whole: float) -> float | None:
    return round(part / whole, 4) if whole else None


def weighted_share(reviewed: Sequence[tuple[str, float]], verdict: str) -> float | None:
    """Hájek estimate of the share of ``verdict`` in all answers, from ``(verdict, inclusion)``."""
    total = sum(1 / p for _, p in reviewed if p > 0)
    return _ratio(sum(1 / p for v, p in reviewed if v == verdict and p > 0), total)


def week_figures(conn: apsw.Connection, site_id: int, week: str) -> WeekFigures:
    """The figures of ``week`` for ``site_id``."""
    start, end = week_bounds(week)
    answers, graded, avg, ratings, downs = answer_figures(conn, site_id, start, end)
    verdicts = conn.execute(
        "SELECT verdict, inclusion FROM reviews WHERE site_id = ? AND week = ?", (site_id, week)
    ).fetchall()
    reviewed = [(str(v), float(str(p))) for v, p in verdicts if v is not None]
    count = {k: sum(v == k for v, _ in reviewed) for k in ("grounded", "hallucination", "partial")}
    return WeekFigures(
        week=week, answers=int(str(answers)), graded=int(str(graded)),
        average_grounding=None if avg is None else round(float(str(avg)), 4),
        ratings=int(str(ratings)), thumbs_down=int(str(downs)),
        thumbs_down_rate=_ratio(int(str(downs)), int(str(ratings))),
        sampled=len(verdicts), reviewed=len(reviewed), grounded=count["grounded"],
        hallucinations=count["hallucination"], partial=count["partial"],
        rate=_ratio(count["hallucination"], len(reviewed)),
        partial_rate=_ratio(count["partial"], len(reviewed)),
        weighted_rate=weighted_share(reviewed, "hallucination"),
        weighted_partial_rate=weighted_share(reviewed, "partial"),
    )  # fmt: skip
