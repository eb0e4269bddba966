"""How risky an answer is to get wrong: the weight the weekly review sample is drawn with."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["LOW_GROUNDING", "Risk", "RiskWeights", "involves_money", "risk_of"]

#: Below this grounding an answer counts as weakly grounded (reason ``low_grounding``).
LOW_GROUNDING = 0.7

_MONEY = re.compile(
    r"[€$£¥]\s?\d|\d\s?(?:€|\$|£|eur|usd|gbp|chf|euros?|dollars?|pounds?)\b"
    r"|\b(?:refund\w*|charg\w*|pay|paid|payment\w*|price\w*|pricing|cost\w*|fee\w*|invoice\w*"
    r"|bill\w*|subscription\w*|discount\w*|voucher\w*|credit\w*|debit\w*|money|cash"
    r"|rembours\w*|prix|pai\w*|factur\w*|erstatt\w*|zahl\w*|preis\w*|geld|rechnung\w*"
    r"|reembols\w*|pago\w*|precio\w*|cobr\w*)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class RiskWeights:
    """What each risk adds to the base weight of 1."""

    base: float = 1.0
    low_grounding: float = 2.0
    """Times (1 − grounding); an answer not graded yet counts as grounding 0.5."""
    money: float = 1.5
    """Money words or amounts in the question or answer, or the answer's ``actions`` flag."""
    thumbs_down: float = 3.0


@dataclass(frozen=True, slots=True)
class Risk:
    weight: float
    reasons: list[str]


def involves_money(*texts: str) -> bool:
    return any(_MONEY.search(t) for t in texts)


def risk_of(
    *,
    grounding: float | None,
    actions: bool,
    question: str,
    answer: str,
    rating: str | None,
    weights: RiskWeights | None = None,
) -> Risk:
    """The sampling weight of one answer and the reasons behind it."""
    w = weights or RiskWeights()
    weight, reasons = w.base, []
    if grounding is None:
        weight += w.low_grounding * 0.5
        reasons.append("ungraded")
    else:
        weight += w.low_grounding * (1.0 - min(1.0, max(0.0, grounding)))
        if grounding < LOW_GROUNDING:
            reasons.append("low_grounding")
    money = involves_money(question, answer)
    if actions or money:
        weight += w.money
        reasons += (["actions"] if actions else []) + (["money"] if money else [])
    if rating == "down":
        weight += w.thumbs_down
        reasons.append("thumbs_down")
    return Risk(round(weight, 6), reasons)
