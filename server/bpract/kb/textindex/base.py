"""The text index seam: full-text search over a site's chunks, ranked BM25-style."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

__all__ = ["TextIndex"]


class TextIndex(ABC):
    """Chunks' words, searched per site; a chunk's entry goes when the chunk is deleted."""

    @abstractmethod
    def add(
        self, conn: Any, chunk_id: int, site_id: int, *, title: str, section: str, text: str
    ) -> None:
        """Index one new chunk (inside the caller's transaction)."""

    @abstractmethod
    def search(
        self, conn: Any, site_id: int, query: str, k: int, *, postings: int | None
    ) -> list[tuple[int, float]]:
        """``(chunk_id, score)`` of the ``k`` best chunks, best (highest score) first.

        ``postings`` lets the index leave out the commonest query words once the
        chunks holding the rest add up to that many (None: every word counts).
        """
