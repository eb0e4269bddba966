"""Knowledge-base errors.

KnowledgeBaseError
├── EmbeddingError          the embedder could not be loaded or called
├── ModelMismatchError      the index was built by another embedding model
├── SourceError             a file, URL or sitemap could not be read
└── UnknownSiteError        no site with that id or public key
"""

from __future__ import annotations

__all__ = [
    "EmbeddingError",
    "KnowledgeBaseError",
    "ModelMismatchError",
    "SourceError",
    "UnknownSiteError",
]


class KnowledgeBaseError(Exception):
    """Root of the knowledge-base errors; ``detail`` says what happened."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class EmbeddingError(KnowledgeBaseError):
    """The embedder could not be loaded or called."""


class ModelMismatchError(KnowledgeBaseError):
    """The vectors were made by another model; run ``bpract kb reindex``."""


class SourceError(KnowledgeBaseError):
    """A file, URL or sitemap could not be read."""


class UnknownSiteError(KnowledgeBaseError):
    """No site with that id or public key."""
