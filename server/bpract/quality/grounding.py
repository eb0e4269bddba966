"""Grounding: how much of an answer its passages support (offline: term overlap and embeddings).

Each claim of the answer (see :mod:`bpract.quality.claims`) is compared with
every sentence of the passages, and with each pair of adjacent sentences.  Only
sentences that agree with it on negation, in a passage holding every number the
claim states, can support it; its support is the share of its content words
found in the best of them, with an embedding cosine to settle the doubtful
middle.  The score is the supported share of the claims, weighted by their
length.  Thresholds are calibrated in ``tests/quality/test_calibration.py``
(see docs/quality.md).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from bpract.quality.claims import Claim, claims_of, content_terms, has_negation, numbers_in
from bpract.quality.claims import sentences_of as _sentences

if TYPE_CHECKING:
    from bpract.kb.embed.base import Embedder

__all__ = ["Grounder", "Grounding", "OfflineGrounder", "Support", "score"]

log = logging.getLogger("bpract.quality")


@dataclass(frozen=True, slots=True)
class Grounding:
    """An answer's grounding: ``score`` in [0, 1], how it was measured, what was not supported."""

    score: float
    method: str
    unsupported: list[str] = field(default_factory=list)


class Grounder(Protocol):
    """Anything that scores an answer against the passages it was generated from."""

    async def score(
        self, answer: str, passages: Sequence[dict[str, Any]], *, site_id: int = 0
    ) -> Grounding: ...


@dataclass(frozen=True, slots=True)
class Support:
    """The best support one claim found: word overlap, cosine, and whether it counts."""

    claim: str
    overlap: float
    cosine: float
    supported: bool


@dataclass(frozen=True, slots=True)
class _Unit:
    text: str
    terms: frozenset[str]
    negated: bool
    passage: int


def _units(passages: Sequence[dict[str, Any]]) -> list[_Unit]:
    units = []
    for i, p in enumerate(passages):
        sentences = _sentences(str(p.get("text") or ""))
        windows = sentences + [f"{a} {b}" for a, b in itertools.pairwise(sentences)]
        units += [_Unit(w, content_terms(w), has_negation(w), i) for w in windows]
    return units


class OfflineGrounder:
    """Scores without a model: word overlap decides, ``embedder`` settles the doubtful claims.

    A claim whose best word overlap reaches ``overlap_high`` is supported; below
    ``overlap_low`` it is not.  In between (a paraphrase, or an invention that
    reuses the passage's words) the claim and its ``candidates`` best sentences
    are embedded and a cosine of ``cosine_threshold`` decides.  Embedding only
    those keeps the cost to a few sentences per answer.
    """

    def __init__(
        self,
        embedder: Embedder | None = None,
        *,
        overlap_high: float = 0.7,
        overlap_low: float = 0.3,
        cosine_threshold: float = 0.75,
        candidates: int = 3,
    ) -> None:
        self.embedder = embedder
        self.overlap_high, self.overlap_low = overlap_high, overlap_low
        self.cosine_threshold, self.candidates = cosine_threshold, candidates
        self.method = f"offline:overlap+{embedder.name}" if embedder else "offline:overlap"

    async def score(
        self, answer: str, passages: Sequence[dict[str, Any]], *, site_id: int = 0
    ) -> Grounding:
        supports = await self.supports(answer, passages)
        if not supports:
            return Grounding(score=1.0, method=self.method)  # nothing asserted, nothing invented
        total = sum(len(s.claim) for s in supports)
        held = sum(len(s.claim) for s in supports if s.supported)
        return Grounding(
            score=round(held / total, 4),
            method=self.method,
            unsupported=[s.claim for s in supports if not s.supported],
        )

    async def supports(self, answer: str, passages: Sequence[dict[str, Any]]) -> list[Support]:
        """Each claim's best support (what :meth:`score` aggregates; used for calibration)."""
        units = _units(passages)
        numbers = [numbers_in(str(p.get("text") or "")) for p in passages]
        ranked = [(c, _ranked(c, units, numbers)) for c in claims_of(answer)]
        doubtful = [
            (i, claim, [u for _, u in found[: self.candidates]])
            for i, (claim, found) in enumerate(ranked)
            if found and self.overlap_low <= found[0][0] < self.overlap_high
        ]
        cosines = await self._cosines(doubtful)
        out = []
        for i, (claim, found) in enumerate(ranked):
            overlap = found[0][0] if found else 0.0
            cosine = cosines.get(i, 0.0)
            held = overlap >= self.overlap_high or cosine >= self.cosine_threshold
            out.append(Support(claim.text, round(overlap, 4), round(cosine, 4), held))
        return out

    async def _cosines(self, doubtful: list[tuple[int, Claim, list[_Unit]]]) -> dict[int, float]:
        if self.embedder is None or not doubtful:
            return {}
        texts = list(
            dict.fromkeys(t for _, c, us in doubtful for t in (c.text, *(u.text for u in us)))
        )
        try:
            vectors = await asyncio.to_thread(self.embedder.embed, texts)
        except Exception as exc:  # any embedder failure leaves word overlap to decide
            log.warning("grounding: embedder failed (%s); word overlap only", exc)
            return {}
        row = {t: vectors[k] for k, t in enumerate(texts)}
        return {i: max(float(row[c.text] @ row[u.text]) for u in us) for i, c, us in doubtful}


def _ranked(
    claim: Claim, units: list[_Unit], numbers: list[frozenset[str]]
) -> list[tuple[float, _Unit]]:
    """Units that may support ``claim`` (same negation, its numbers in the passage), best first."""
    found = [
        (len(claim.terms & u.terms) / len(claim.terms), u)
        for u in units
        if u.negated == claim.negated and claim.numbers <= numbers[u.passage]
    ]
    found.sort(key=lambda pair: -pair[0])
    return found


async def score(
    answer: str, passages: Sequence[dict[str, Any]], *, embedder: Embedder | None = None
) -> Grounding:
    """The offline grounding of ``answer`` against ``passages`` (``[{text, title, …}]``)."""
    return await OfflineGrounder(embedder).score(answer, passages)
