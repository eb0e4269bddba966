"""The answer without a model: the help sentences closest to the question, quoted and cited."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from bpract.chat.injection import looks_like_instructions
from bpract.text import sentences, terms

if TYPE_CHECKING:
    from bpract.kb import Passage

__all__ = ["Extract", "extract"]


_MAX_SENTENCES: Final = 3
_MAX_PASSAGES: Final = 2
_MAX_CHARS: Final = 600


@dataclass(frozen=True, slots=True)
class Extract:
    """Sentences taken from ``passages`` (in citation order), each sentence with its passage."""

    quotes: tuple[tuple[str, int], ...]
    """(sentence, index into ``passages``) in reading order."""
    passages: tuple[Passage, ...]


def _scores(query: list[str], candidates: list[str]) -> list[float]:
    """BM25-style: rarer shared terms weigh more, long sentences are damped."""
    docs = [Counter(terms(c)) for c in candidates]
    n = len(docs)
    avg = sum(sum(d.values()) for d in docs) / max(n, 1) or 1.0
    df = Counter(t for d in docs for t in d)
    wanted = set(query)
    out = []
    for d in docs:
        length = sum(d.values())
        score = 0.0
        for t in wanted & d.keys():
            idf = math.log(1 + (n - df[t] + 0.5) / (df[t] + 0.5))
            tf = d[t]
            score += idf * tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * length / avg))
        out.append(score)
    return out


def extract(query: str, passages: Sequence[Passage]) -> Extract:
    """The best sentences of the top passages for ``query``; empty when none shares a word.

    Sentences that read like instructions to an assistant are never quoted.
    """
    top = list(passages[:_MAX_PASSAGES])
    candidates: list[tuple[str, int, int]] = []  # sentence, passage index, position
    for p_index, p in enumerate(top):
        for pos, s in enumerate(sentences(p.text)):
            if not looks_like_instructions(s):
                candidates.append((s, p_index, pos))
    scores = _scores(terms(query), [c[0] for c in candidates])
    ranked = sorted(range(len(candidates)), key=lambda i: (-scores[i], candidates[i][1:]))
    chosen: list[int] = []
    chars = 0
    for i in ranked:
        if scores[i] <= 0 or len(chosen) >= _MAX_SENTENCES or chars >= _MAX_CHARS:
            break
        if scores[i] < 0.35 * scores[ranked[0]]:
            break  # a weak runner-up adds noise, not answer
        chosen.append(i)
        chars += len(candidates[i][0])
    if not chosen and top and candidates and top[0].confidence is not None:
        # No shared word (another phrasing): the top passage's first sentence still cites it.
        first = next((c for c in candidates if c[1] == 0), None)
        if first is not None:
            chosen = [candidates.index(first)]
    chosen.sort(key=lambda i: candidates[i][1:])
    used = sorted({candidates[i][1] for i in chosen})
    quotes = tuple((candidates[i][0], used.index(candidates[i][1])) for i in chosen)
    return Extract(quotes=quotes, passages=tuple(top[u] for u in used))
