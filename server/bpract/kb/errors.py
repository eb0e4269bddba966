"""Knowledge-base errors.

KnowledgeBaseError
├── EmbeddingError          the embedder could not be loaded or called
├── ModelMismatchError      the index was built by another embedding model
└── SourceError             a file, URL or sitemap could not be read
"""

from __future__ import annotations

from bpract.errors import BpractError

__all__ = [
    "EmbeddingError",
    "KnowledgeBaseError",
    "ModelMismatchError",
    "SourceError",
]


class KnowledgeBaseError(BpractError):
    """Root of the knowledge-base errors; ``detail`` says what happened."""


class EmbeddingError(KnowledgeBaseError):
    """The embedder could not be loaded or called."""


class ModelMismatchError(KnowledgeBaseError):
    """The vectors were made by another model; run ``bpract kb reindex``."""


class SourceError(KnowledgeBaseError):
    """A file, URL or sitemap could not be read."""
