"""Hybrid retrieval: BM25 and vector candidates fused by weighted reciprocal rank."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

import apsw
import numpy as np

from bpract.kb import index
from bpract.kb.confidence import confidence
from bpract.kb.embed.base import Embedder, Vectors
from bpract.kb.errors import ModelMismatchError
from bpract.kb.types import Passage
from bpract.store import Database

__all__ = ["Fusion", "KnowledgeBase", "Mode"]

Mode = Literal["hybrid", "bm25", "vector"]


@dataclass(frozen=True, slots=True)
class Fusion:
    """Reciprocal rank fusion: ``score = Σ weight / (k + rank)`` over the two lists."""

    k: int = 60
    """RRF damping constant (60 in the original paper)."""
    bm25_weight: float = 1.0
    vector_weight: float = 2.0
    """Semantic ranks count double: on StackFAQ 1:2 beat 1:1 (see docs/performance.md)."""
    candidates: int = 50
    """How many candidates each retriever contributes before fusing."""


def _ranks(hits: list[tuple[int, float]]) -> dict[int, int]:
    return {chunk_id: rank for rank, (chunk_id, _) in enumerate(hits, start=1)}


class KnowledgeBase:
    """Search (and, through :mod:`bpract.kb.ingest`, build) one database's knowledge base."""

    def __init__(self, db: Database, embedder: Embedder, fusion: Fusion | None = None) -> None:
        self.db = db
        self.embedder = embedder
        self.fusion = fusion or Fusion()

    async def _query_vector(self, query: str) -> Vectors:
        vectors = await asyncio.to_thread(self.embedder.embed, [query])
        row: Vectors = vectors[0]
        return row

    async def search(
        self, site_id: int, query: str, k: int = 5, mode: Mode = "hybrid"
    ) -> list[Passage]:
        """The ``k`` best passages of ``site_id`` for ``query``, best first.

        Raises :class:`ModelMismatchError` in ``hybrid``/``vector`` mode when the
        index was built by another embedding model (``bpract kb reindex`` fixes it).
        """
        model = await self.db.run(index.indexed_model)
        usable = model == (self.embedder.name, self.embedder.dim)
        if mode != "bm25" and model is not None and not usable:
            raise ModelMismatchError(
                f"the index was built with {model[0]}, not {self.embedder.name}: "
                "run `bpract kb reindex` to re-embed"
            )
        vector = await self._query_vector(query) if usable else None
        return await self.db.run(
            lambda conn: self._search(conn, site_id, query, vector=vector, k=k, mode=mode)
        )

    def _search(
        self,
        conn: apsw.Connection,
        site_id: int,
        query: str,
        *,
        vector: Vectors | None,
        k: int,
        mode: Mode,
    ) -> list[Passage]:
        n = max(self.fusion.candidates, k)
        lexical = index.bm25(conn, site_id, query, n) if mode != "vector" else []
        semantic = (
            index.knn(conn, site_id, vector, n) if vector is not None and mode != "bm25" else []
        )
        b_rank, v_rank = _ranks(lexical), _ranks(semantic)
        f = self.fusion
        scores: dict[int, float] = {}
        for ranks, weight in ((b_rank, f.bm25_weight), (v_rank, f.vector_weight)):
            for chunk_id, rank in ranks.items():
                scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (f.k + rank)
        top = sorted(scores, key=lambda c: -scores[c])[:k]
        sims = dict(semantic)
        missing = [c for c in top if c not in sims]
        if vector is not None and missing:
            for chunk_id, v in index.vectors_of(conn, site_id, missing).items():
                sims[chunk_id] = float(np.dot(v, vector))
        return _passages(conn, site_id, top, scores=scores, b_rank=b_rank, v_rank=v_rank, sims=sims)


def _passages(
    conn: apsw.Connection,
    site_id: int,
    top: list[int],
    *,
    scores: dict[int, float],
    b_rank: dict[int, int],
    v_rank: dict[int, int],
    sims: dict[int, float],
) -> list[Passage]:
    out = []
    for chunk_id in top:
        row = conn.execute(
            "SELECT c.doc_id, d.title, d.url, c.section, c.text, d.updated_at, d.source "
            "FROM kb_chunks c JOIN kb_documents d ON d.id = c.doc_id "
            "WHERE c.id = ? AND c.site_id = ?",
            (chunk_id, site_id),
        ).fetchone()
        if row is None:
            continue
        doc_id, title, url, section, text, updated_at, source = row
        sim = sims.get(chunk_id)
        out.append(
            Passage(
                chunk_id=chunk_id,
                doc_id=int(doc_id),
                title=str(title),
                url=url,
                section=str(section),
                text=str(text),
                updated_at=updated_at,
                score=scores[chunk_id],
                bm25_rank=b_rank.get(chunk_id),
                vector_rank=v_rank.get(chunk_id),
                similarity=sim,
                confidence=confidence(sim, b_rank.get(chunk_id)),
                source=str(source),
            )
        )
    return out
