"""Knowledge-base records: parsed documents, their sections, and retrieved passages."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

__all__ = ["Document", "Passage", "Section"]


@dataclass(frozen=True, slots=True)
class Section:
    """Text under one heading; ``heading`` is the path, e.g. ``"Returns > Refund times"``."""

    heading: str
    text: str


@dataclass(frozen=True, slots=True)
class Document:
    """A parsed source, ready to chunk."""

    source: str
    """Absolute file path or URL: the document's identity within a site."""
    title: str
    url: str | None
    """Where a visitor can read it; None for a local file."""
    updated_at: str | None
    """ISO-8601 last-updated date, from the source's metadata when it has one."""
    sections: tuple[Section, ...]

    def content_hash(self) -> str:
        """sha256 over what retrieval sees: title, url, date and every section."""
        h = hashlib.sha256()
        for part in (self.title, self.url or "", self.updated_at or ""):
            h.update(part.encode("utf-8") + b"\x00")
        for s in self.sections:
            h.update(s.heading.encode("utf-8") + b"\x01" + s.text.encode("utf-8") + b"\x00")
        return h.hexdigest()


@dataclass(frozen=True, slots=True)
class Passage:
    """One retrieved chunk with its provenance and scores."""

    chunk_id: int
    doc_id: int
    title: str
    url: str | None
    section: str
    text: str
    updated_at: str | None
    score: float
    """Fused score (reciprocal rank fusion in hybrid mode); higher is better."""
    bm25_rank: int | None
    """1-based rank in the BM25 list, None if BM25 did not return it."""
    vector_rank: int | None
    """1-based rank in the vector list, None if the vector search did not return it."""
    similarity: float | None
    """Cosine similarity between query and chunk (None when no vector is available)."""
    confidence: float | None
    """Estimated probability that this passage answers the query (see docs/kb.md)."""
    source: str = ""
