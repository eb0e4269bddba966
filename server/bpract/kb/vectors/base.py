"""The vector index seam: each chunk's embedding, and the nearest chunks of a site to a query."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

from bpract.kb.embed.base import Vectors

__all__ = ["VectorIndex"]


class VectorIndex(ABC):
    """Embeddings by chunk id; a chunk's vector goes when the chunk is deleted."""

    @abstractmethod
    def store(self, conn: Any, rows: Sequence[tuple[int, int]], vectors: Vectors) -> None:
        """Store (or replace) the vector of each ``(chunk_id, site_id)``, one row of ``vectors``
        each (inside the caller's transaction)."""

    @abstractmethod
    def clear(self, conn: Any) -> None:
        """Forget every vector (the embedding model changed)."""

    @abstractmethod
    def nearest(
        self, conn: Any, site_id: int, vector: Vectors, k: int, *, shortlist: int
    ) -> list[tuple[int, float]]:
        """``(chunk_id, cosine similarity)`` of the ``k`` nearest chunks, nearest first.

        An approximate index re-scores ``shortlist`` coarse candidates exactly.
        """

    @abstractmethod
    def vectors_of(self, conn: Any, site_id: int, ids: Sequence[int]) -> dict[int, Vectors]:
        """The stored vectors (unit length) of some chunks of one site."""
