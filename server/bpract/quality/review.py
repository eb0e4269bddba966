"""The weekly review sample: risky answers drawn for people to judge, and their verdicts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import apsw
import msgspec

from bpract.chat.answers import answers_between, answers_by_id
from bpract.quality.risk import RiskWeights, risk_of
from bpract.quality.sampling import inclusion_probabilities, sample_keys
from bpract.quality.weeks import week_bounds

__all__ = [
    "DEFAULT_SAMPLE",
    "VERDICTS",
    "Candidate",
    "ReviewItem",
    "Verdict",
    "candidates",
    "review_items",
    "sample_week",
    "set_verdict",
]

DEFAULT_SAMPLE = 25
Verdict = Literal["grounded", "hallucination", "partial"]
VERDICTS: frozenset[str] = frozenset({"grounded", "hallucination", "partial"})


@dataclass(frozen=True, slots=True)
class Candidate:
    """An answer of the week that may be sampled, with its risk."""

    message_id: str
    weight: float
    reasons: list[str]


class ReviewItem(msgspec.Struct, frozen=True, kw_only=True):
    """One sampled answer as a reviewer sees it."""

    message_id: str
    conversation_id: str
    week: str
    at_ms: int
    question: str | None
    answer: str
    citations: list[dict[str, Any]]
    passages: list[dict[str, Any]]
    grounding: float | None
    grounding_method: str | None
    rating: str | None
    rating_comment: str | None
    weight: float
    inclusion: float
    reasons: list[str]
    verdict: Verdict | None
    reviewer: str | None
    note: str | None
    verdict_ms: int | None


def candidates(
    conn: apsw.Connection, site_id: int, week: str, weights: RiskWeights | None = None
) -> list[Candidate]:
    """The week's answers (``unknown`` and ``handoff`` replies are not answers) with their risk."""
    start, end = week_bounds(week)
    out = []
    for mid, text, grounding, actions, question, rating in answers_between(
        conn, site_id, start, end
    ):
        risk = risk_of(
            grounding=None if grounding is None else float(str(grounding)),
            actions=bool(actions),
            question=str(question or ""),
            answer=str(text),
            rating=None if rating is None else str(rating),
            weights=weights,
        )
        out.append(Candidate(str(mid), risk.weight, risk.reasons))
    return out


def sample_week(
    conn: apsw.Connection,
    site_id: int,
    week: str,
    *,
    n: int = DEFAULT_SAMPLE,
    now_ms: int,
    weights: RiskWeights | None = None,
) -> int:
    """Draw up to ``n`` answers of ``week`` into ``reviews``; returns how many were added.

    Run it again and the rows already drawn stay as they are (with their
    verdicts); only a shortfall — answers that arrived since — is drawn.
    """
    if n < 1:
        raise ValueError("a sample needs at least one answer")
    found = {c.message_id: c for c in candidates(conn, site_id, week, weights)}
    have = {
        str(mid)
        for (mid,) in conn.execute(
            "SELECT message_id FROM reviews WHERE site_id = ? AND week = ?", (site_id, week)
        )
    }
    need = n - len(have)
    if need <= 0:
        return 0
    order = sample_keys(f"{site_id}:{week}", {k: c.weight for k, c in found.items()})
    picked = [k for k in order if k not in have][:need]
    inclusion = inclusion_probabilities({k: c.weight for k, c in found.items()}, n)
    for k in picked:
        conn.execute(
            "INSERT INTO reviews (message_id, site_id, week, weight, inclusion, reasons,"
            " sampled_ms) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (message_id) DO NOTHING",
            (k, site_id, week, found[k].weight, inclusion[k],
             msgspec.json.encode(found[k].reasons).decode(), now_ms),
        )  # fmt: skip
    return len(picked)


_REVIEWS = (
    "SELECT message_id, week, weight, inclusion, reasons, verdict, reviewer, note, verdict_ms"
    " FROM reviews WHERE site_id = ?"
)
_FIELDS = (
    "message_id", "conversation_id", "week", "at_ms", "question", "answer", "citations",
    "passages", "grounding", "grounding_method", "rating", "rating_comment", "weight",
    "inclusion", "reasons", "verdict", "reviewer", "note", "verdict_ms",
)  # fmt: skip
_JSON = ("citations", "passages", "reasons")


def _item(row: tuple[Any, ...]) -> ReviewItem:
    raw = dict(zip(_FIELDS, row, strict=True))
    for key in _JSON:
        raw[key] = msgspec.json.decode(raw[key] or "[]")
    return msgspec.convert(raw, ReviewItem)


def review_items(
    conn: apsw.Connection, site_id: int, *, week: str | None = None, message_id: str | None = None
) -> list[ReviewItem]:
    """The sampled answers of ``site_id`` (of one week, or one message), riskiest first."""
    sql, args = _REVIEWS, list[int | str]([site_id])
    for column, value in (("week", week), ("message_id", message_id)):
        if value is not None:
            sql += f" AND {column} = ?"
            args.append(value)
    sql += " ORDER BY weight DESC, message_id"
    reviews = conn.execute(sql, args).fetchall()
    # A sampled answer whose message is gone (deleted with its conversation) is left out.
    answers = answers_by_id(conn, site_id, [str(r[0]) for r in reviews])
    return [
        _item((mid, a[0], wk, a[1], *a[2:], *rest))
        for mid, wk, *rest in reviews
        if (a := answers.get(str(mid))) is not None
    ]


def set_verdict(
    conn: apsw.Connection,
    site_id: int,
    message_id: str,
    *,
    verdict: str,
    reviewer: str,
    note: str | None,
    now_ms: int,
) -> bool:
    """Record a reviewer's verdict; False when the message is not in this site's sample."""
    if verdict not in VERDICTS:
        raise ValueError(f"verdict must be one of {', '.join(sorted(VERDICTS))}")
    updated = conn.execute(
        "UPDATE reviews SET verdict = ?, reviewer = ?, note = ?, verdict_ms = ?"
        " WHERE message_id = ? AND site_id = ? RETURNING message_id",
        (verdict, reviewer, note, now_ms, message_id, site_id),
    ).fetchall()
    return bool(updated)
