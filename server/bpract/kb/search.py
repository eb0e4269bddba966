"""Hybrid retrieval: BM25 and vector candidates fused by weighted reciprocal rank."""

from __future__ import annotations

import asyncio
import weakref
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TypeVar

import apsw
import numpy as np

from bpract.kb import index
from bpract.kb.backends import TEXT_INDEX, vector_index
from bpract.kb.confidence import confidence
from bpract.kb.embed.base import Embedder, Vectors
from bpract.kb.errors import ModelMismatchError
from bpract.kb.types import Passage
from bpract.kb.vectors.sqlite import SHORTLIST
from bpract.store import Database, ReaderPool

__all__ = ["Fusion", "KnowledgeBase", "Mode"]

Mode = Literal["hybrid", "bm25", "vector"]
#: Query embeddings kept per knowledge base (384 floats each: ~0.4 MB in all).
_QUERY_CACHE = 256
T = TypeVar("T")


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
    bm25_postings: int = index.POSTINGS
    """Chunk postings BM25 may score, in hybrid mode, before it drops the commonest words."""
    shortlist: int = SHORTLIST
    """Chunks the sign-bit scan passes to exact re-scoring."""


def _ranks(hits: list[tuple[int, float]]) -> dict[int, int]:
    return {chunk_id: rank for rank, (chunk_id, _) in enumerate(hits, start=1)}


class KnowledgeBase:
    """Search (and, through :mod:`bpract.kb.ingest`, build) one database's knowledge base.

    Searches read through their own connections (:class:`Readers`), so BM25
    and the vector KNN run at the same time and never wait behind the
    database thread's writes; an in-memory database is searched on its thread.
    """

    def __init__(self, db: Database, embedder: Embedder, fusion: Fusion | None = None) -> None:
        self.db = db
        self.embedder = embedder
        self.fusion = fusion or Fusion()
        self._vectors: OrderedDict[str, Vectors] = OrderedDict()
        self._text = TEXT_INDEX
        self._index = vector_index()
        self._readers = db.readers()
        self._finalizer = weakref.finalize(self, _release, self._readers)

    async def _read(self, fn: Callable[[apsw.Connection], T]) -> T:
        return await (self._readers.run(fn) if self._readers else self.db.run(fn))

    async def _query_vector(self, query: str) -> Vectors:
        # A repeated question (retries, the same FAQ asked by many visitors) skips the model.
        cached = self._vectors.get(query)
        if cached is not None:
            self._vectors.move_to_end(query)
            return cached
        vectors = await asyncio.to_thread(self.embedder.embed, [query])
        row: Vectors = vectors[0]
        self._vectors[query] = row
        if len(self._vectors) > _QUERY_CACHE:
            self._vectors.popitem(last=False)
        return row

    def forget_queries(self) -> None:
        """Empty the cache of query embeddings."""
        self._vectors.clear()

    def close(self) -> None:
        """Release the search connections (the :class:`Database` stays open)."""
        self._finalizer.detach()
        if self._readers is not None:
            self._readers.close()

    async def search(
        self, site_id: int, query: str, k: int = 5, mode: Mode = "hybrid"
    ) -> list[Passage]:
        """The ``k`` best passages of ``site_id`` for ``query``, best first.

        Raises :class:`ModelMismatchError` in ``hybrid``/``vector`` mode when the
        index was built by another embedding model (``bpract kb reindex`` fixes it).
        """
        model = await self._read(index.indexed_model)
        usable = model == (self.embedder.name, self.embedder.dim)
        if mode != "bm25" and model is not None and not usable:
            raise ModelMismatchError(
                f"the index was built with {model[0]}, not {self.embedder.name}: "
                "run `bpract kb reindex` to re-embed"
            )
        f = self.fusion
        n = max(f.candidates, k)

        async def lexical() -> list[tuple[int, float]]:
            if mode == "vector":
                return []
            # Only beside vectors may BM25 leave common words out: they cover them.
            budget = f.bm25_postings if mode == "hybrid" and usable else None
            return await self._read(
                lambda c: self._text.search(c, site_id, query, n, postings=budget)
            )

        async def semantic() -> tuple[Vectors | None, list[tuple[int, float]]]:
            # The query is embedded while BM25 runs; the vector is needed in bm25 mode
            # too, for the similarity (and so the confidence) of what BM25 found.
            vector = await self._query_vector(query) if usable else None
            if vector is None or mode == "bm25":
                return vector, []
            return vector, await self._read(
                lambda c: self._index.nearest(c, site_id, vector, n, shortlist=f.shortlist)
            )

        lex, (vector, sem) = await asyncio.gather(lexical(), semantic())
        top, scores, b_rank, v_rank = _fuse(f, lex, sem, k)
        sims = dict(sem)
        missing = [c for c in top if c not in sims]

        def fetch(conn: apsw.Connection) -> list[Passage]:
            if vector is not None and missing:
                for chunk_id, v in self._index.vectors_of(conn, site_id, missing).items():
                    sims[chunk_id] = float(np.dot(v, vector))
            return _passages(
                conn, site_id, top, scores=scores, b_rank=b_rank, v_rank=v_rank, sims=sims
            )

        return await self._read(fetch)


def _release(readers: ReaderPool[apsw.Connection] | None) -> None:
    if readers is not None:
        readers.close(wait=False)


def _fuse(
    f: Fusion, lexical: list[tuple[int, float]], semantic: list[tuple[int, float]], k: int
) -> tuple[list[int], dict[int, float], dict[int, int], dict[int, int]]:
    """The ``k`` best chunk ids by weighted RRF, their scores and both rank maps."""
    b_rank, v_rank = _ranks(lexical), _ranks(semantic)
    scores: dict[int, float] = {}
    for ranks, weight in ((b_rank, f.bm25_weight), (v_rank, f.vector_weight)):
        for chunk_id, rank in ranks.items():
            scores[chunk_id] = scores.get(chunk_id, 0.0) + weight / (f.k + rank)
    top = sorted(scores, key=lambda c: -scores[c])[:k]
    return top, scores, b_rank, v_rank


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
    rows = index.passage_rows(conn, site_id, top)
    for chunk_id in top:
        row = rows.get(chunk_id)
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
