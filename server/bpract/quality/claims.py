"""An answer cut into checkable claims: citation markers, framing and questions left out."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bpract.text import STOP_WORDS, fold, spoken_words, words

__all__ = ["Claim", "claims_of", "content_terms", "has_negation", "numbers_in", "sentences_of"]

_CITATION = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")
_LEADING_ASIDE = re.compile(r"^\s*\([^)]{0,160}\)\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")
# A compound sentence is checked clause by clause: each half must be supported on its own.
_CLAUSE = re.compile(r",\s+(?:and|but|whereas)\s+|;\s*")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_CONTRACTION = re.compile(r"n't\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_NEGATION = frozenset(
    {"not", "no", "never", "cannot", "can't", "cant", "won't", "don't", "doesn't", "isn't"}
    | {"aren't", "nothing", "none", "neither", "nor", "pas", "nicht", "kein", "nunca"}
)
# Negations are no content either: "don't deliver" and "do not deliver" must meet.
_NOT_CONTENT = STOP_WORDS | _NEGATION
# Sentences that frame an answer rather than claim anything about the business.
_FRAMING = re.compile(
    r"^(?:i hope|hope this|let me know|is there anything|feel free|i can pass|i can put you"
    r"|i can connect|i'll pass|would you like|do you want|happy to help|glad to help"
    r"|here(?:'s| is) what|according to (?:our|the|this)|based on (?:our|the|this)"
    r"|thanks|thank you|you're welcome|sure\b|of course|great question|good question"
    r"|i'm (?:not sure|sorry)|sorry\b|i don't know|see (?:the )?(?:article|page|link)"
    r"|for more (?:details|information)|you can read more|source[s]?:)",
    re.IGNORECASE,
)
_MIN_TERMS = 2


@dataclass(frozen=True, slots=True)
class Claim:
    """One sentence of an answer that asserts something checkable."""

    text: str
    terms: frozenset[str]
    numbers: frozenset[str]
    negated: bool


def content_terms(text: str) -> frozenset[str]:
    """Lower-cased content words of ``text``: no stop or negation words, plural ``s`` dropped.

    Negation is left to :func:`has_negation`, so "don't deliver" meets "do not deliver".
    """
    text = text.lower().replace("’", "'").replace("can't", "cannot").replace("won't", "will not")
    found = words(_CONTRACTION.sub(" not", text))
    return frozenset(fold(w) for w in found if len(w) > 1 and w not in _NOT_CONTENT)


def numbers_in(text: str) -> frozenset[str]:
    """Numbers written in ``text``, decimal commas read as points (``3,95`` = ``3.95``)."""
    return frozenset(n.replace(",", ".") for n in _NUMBER.findall(text))


def has_negation(text: str) -> bool:
    return any(w in _NEGATION or w.endswith("n't") for w in spoken_words(text))


def sentences_of(text: str) -> list[str]:
    """Sentences and list items of ``text``, markdown bullets and emphasis removed."""
    out = []
    for raw in _SENTENCE_END.split(text):
        line = _BULLET.sub("", raw).replace("**", "").replace("__", "").strip(" \t|#")
        if line:
            out.append(line)
    return out


def claims_of(answer: str) -> list[Claim]:
    """The answer's checkable claims, in order."""
    text = _CITATION.sub("", _LEADING_ASIDE.sub("", answer))
    found = []
    for sentence in sentences_of(text):
        if sentence.endswith("?") or _FRAMING.match(sentence):
            continue
        for clause in _CLAUSE.split(sentence):
            terms = content_terms(clause)
            if len(terms) >= _MIN_TERMS:
                found.append(Claim(clause, terms, numbers_in(clause), has_negation(clause)))
    return found
