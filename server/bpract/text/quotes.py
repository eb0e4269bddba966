"""The extractive answer: the sentences of some texts that best answer a question."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from bpract.text.sentences import sentences
from bpract.text.words import terms

__all__ = ["Quote", "quote"]

# A runner-up scoring under this share of the best sentence adds noise, not answer.
_RUNNER_UP: Final = 0.35


@dataclass(frozen=True, slots=True)
class Quote:
    """A sentence of ``texts[source]``."""

    sentence: str
    source: int


def _anything(sentence: str) -> bool:
    return True


def _scores(query: list[str], candidates: Sequence[str]) -> list[float]:
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


def quote(
    question: str,
    texts: Sequence[str],
    *,
    most: int = 3,
    max_chars: int = 600,
    allowed: Callable[[str], bool] = _anything,
    first_if_none: bool = False,
) -> list[Quote]:
    """The best sentences of ``texts`` for ``question``, in reading order.

    Sentences ``allowed`` refuses are never quoted. When no sentence shares a
    word with the question the answer is empty, unless ``first_if_none`` asks
    for the first sentence of the first text (retrieval vouched for it).
    """
    candidates = [
        Quote(s, source) for source, t in enumerate(texts) for s in sentences(t) if allowed(s)
    ]
    scores = _scores(terms(question), [c.sentence for c in candidates])
    ranked = sorted(range(len(candidates)), key=lambda i: (-scores[i], i))
    chosen: list[int] = []
    chars = 0
    for i in ranked:
        if scores[i] <= 0 or len(chosen) >= most or chars >= max_chars:
            break
        if scores[i] < _RUNNER_UP * scores[ranked[0]]:
            break
        chosen.append(i)
        chars += len(candidates[i].sentence)
    if not chosen and first_if_none:
        chosen = [i for i, c in enumerate(candidates[:1]) if c.source == 0]
    return [candidates[i] for i in sorted(chosen)]
