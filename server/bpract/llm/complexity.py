"""How hard a chat query looks: the signals that send it to a more capable tier."""

from __future__ import annotations

import re

import msgspec

from bpract.llm.policy import Tier
from bpract.text import spoken_words

__all__ = ["Complexity", "estimate"]

_ACTIONS = frozenset(
    {"cancel", "change", "refund", "transfer", "reschedule", "update", "upgrade", "downgrade"}
    | {"close", "dispute", "block", "freeze", "unfreeze", "reset", "return", "replace"}
    | {"activate", "verify", "book", "move", "delete", "remove", "add", "send", "order", "pay"}
)
_FRUSTRATION = frozenset(
    {"ridiculous", "angry", "terrible", "worst", "unacceptable", "frustrated", "frustrating"}
    | {"annoyed", "useless", "awful", "furious", "again", "still", "ages", "complaint"}
)
_JOINERS = re.compile(r"\b(also|another thing|as well as|and then|plus|in addition)\b")
_DETAILS = re.compile(
    r"\d|\$|£|€|\b(today|tomorrow|yesterday|next|last|monday|tuesday|wednesday|thursday|friday"
    r"|saturday|sunday|january|february|march|april|may|june|july|august|september|october"
    r"|november|december|week|month|year)\b"
)


class Complexity(msgspec.Struct, frozen=True, kw_only=True):
    """A score, the tier it maps to, and the signals that raised it."""

    score: float
    tier: Tier
    signals: tuple[str, ...]


def estimate(query: str, retrieval_confidence: float | None = None) -> Complexity:
    """Score a visitor's message: length, several questions, an action, frustration, retrieval."""
    text = query.lower()
    words = spoken_words(text)
    found: list[tuple[str, float]] = []
    if len(words) > 35:
        found.append(("long", 1.0 if len(words) <= 80 else 2.0))
    questions = query.count("?")
    if questions >= 2 or (_JOINERS.search(text) and questions >= 1):
        found.append(("several questions", 1.5))
    if _ACTIONS.intersection(words):
        found.append(("action", 1.0))
    if _DETAILS.search(text):
        found.append(("details", 0.5))
    shouting = sum(1 for w in query.split() if len(w) > 3 and w.isupper())
    if query.count("!") >= 2 or shouting >= 2 or _FRUSTRATION.intersection(words):
        found.append(("frustration", 1.5))
    if retrieval_confidence is not None and retrieval_confidence < 0.5:
        found.append(("low retrieval confidence", 1.0))
    score = sum(weight for _, weight in found)
    tier: Tier = "reasoning" if score >= 4.5 else "capable" if score >= 1.5 else "fast"
    return Complexity(score=score, tier=tier, signals=tuple(name for name, _ in found))
