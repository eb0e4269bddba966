"""The answer without a model: the help sentences closest to the question, quoted and cited."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from bpract.chat.injection import looks_like_instructions
from bpract.text import quote

if TYPE_CHECKING:
    from bpract.kb import Passage

__all__ = ["Extract", "extract"]

_MAX_PASSAGES: Final = 2


@dataclass(frozen=True, slots=True)
class Extract:
    """Sentences taken from ``passages`` (in citation order), each sentence with its passage."""

    quotes: tuple[tuple[str, int], ...]
    """(sentence, index into ``passages``) in reading order."""
    passages: tuple[Passage, ...]


def _quotable(sentence: str) -> bool:
    return not looks_like_instructions(sentence)


def extract(query: str, passages: Sequence[Passage]) -> Extract:
    """The best sentences of the top passages for ``query``; empty when none shares a word.

    Sentences that read like instructions to an assistant are never quoted. With
    no shared word (another phrasing) a scored top passage is still cited by its
    first sentence.
    """
    top = tuple(passages[:_MAX_PASSAGES])
    vouched = bool(top) and top[0].confidence is not None
    found = quote(query, [p.text for p in top], allowed=_quotable, first_if_none=vouched)
    used = sorted({q.source for q in found})
    quotes = tuple((q.sentence, used.index(q.source)) for q in found)
    return Extract(quotes=quotes, passages=tuple(top[u] for u in used))
