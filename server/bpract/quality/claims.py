"""An answer cut into checkable claims: citation markers, framing and questions left out."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Claim", "claims_of", "content_terms", "has_negation", "numbers_in", "sentences_of"]

_CITATION = re.compile(r"\s*\[\d+(?:\s*[,;]\s*\d+)*\]")
_LEADING_ASIDE = re.compile(r"^\s*\([^)]{0,160}\)\s*")
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+|\n+")
# A compound sentence is checked clause by clause: each half must be supported on its own.
_CLAUSE = re.compile(r",\s+(?:and|but|whereas)\s+|;\s*")
_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+")
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_CONTRACTION = re.compile(r"n't\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
_NEGATION = frozenset(
    {"not", "no", "never", "cannot", "can't", "cant", "won't", "don't", "doesn't", "isn't"}
    | {"aren't", "nothing", "none", "neither", "nor", "pas", "nicht", "kein", "nunca"}
)
_STOP = frozenset(
    {"a", "an", "the", "and", "or", "to", "of", "in", "on", "for", "is", "are", "was", "be"}
    | {"i", "my", "me", "you", "your", "it", "its", "this", "that", "with", "do", "does", "can"}
    | {"how", "what", "when", "where", "why", "which", "who", "we", "our", "us", "as", "at"}
    | {"by", "from", "will", "if", "so", "then", "there", "these", "those", "has", "have"}
    | {"been", "but", "also", "any", "all", "up", "out", "into", "than", "about", "they"}
)
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


def _stem(word: str) -> str:
    # A plural "s" is dropped so "card" meets "cards"; enough for support matching.
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def content_terms(text: str) -> frozenset[str]:
    """Lower-cased content words of ``text``: no stop or negation words, plural ``s`` dropped.

    Negation is left to :func:`has_negation`, so "don't deliver" meets "do not deliver".
    """
    text = text.lower().replace("’", "'").replace("can't", "cannot").replace("won't", "will not")
    words = _WORD.findall(_CONTRACTION.sub(" not", text))
    return frozenset(_stem(w) for w in words if len(w) > 1 and w not in _STOP | _NEGATION)


def numbers_in(text: str) -> frozenset[str]:
    """Numbers written in ``text``, decimal commas read as points (``3,95`` = ``3.95``)."""
    return frozenset(n.replace(",", ".") for n in _NUMBER.findall(text))


def has_negation(text: str) -> bool:
    words = re.findall(r"[a-z']+", text.lower().replace("’", "'"))
    return any(w in _NEGATION or w.endswith("n't") for w in words)


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
