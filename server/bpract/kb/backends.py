"""Which text and vector index the knowledge base runs on: chosen here, in one place."""

from __future__ import annotations

from bpract.kb.textindex.base import TextIndex
from bpract.kb.textindex.sqlite import Fts5Index
from bpract.kb.vectors.base import VectorIndex
from bpract.kb.vectors.sqlite import SignBitIndex

__all__ = ["TEXT_INDEX", "vector_index"]

#: Stateless: one serves every knowledge base.
TEXT_INDEX: TextIndex = Fts5Index()


def vector_index() -> VectorIndex:
    """A new vector index; it caches per-site data, so each knowledge base has its own."""
    return SignBitIndex()
