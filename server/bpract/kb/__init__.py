"""Knowledge base: ingest help-centre content, embed it, retrieve hybrid passages."""

from __future__ import annotations

from bpract.kb.audit import (
    QuestionGroup,
    StaleDocument,
    record_unanswered,
    stale_documents,
    unanswered_groups,
)
from bpract.kb.confidence import ANSWER_THRESHOLD, confidence
from bpract.kb.config import embedder_from_env
from bpract.kb.embed import Embedder, MiniLMEmbedder, OpenAIEmbedder
from bpract.kb.errors import (
    EmbeddingError,
    KnowledgeBaseError,
    ModelMismatchError,
    SourceError,
)
from bpract.kb.ingest import IngestReport, add_documents, embed_pending, ingest
from bpract.kb.search import Fusion, KnowledgeBase, Mode
from bpract.kb.types import Document, Passage, Section

__all__ = [
    "ANSWER_THRESHOLD",
    "Document",
    "Embedder",
    "EmbeddingError",
    "Fusion",
    "IngestReport",
    "KnowledgeBase",
    "KnowledgeBaseError",
    "MiniLMEmbedder",
    "Mode",
    "ModelMismatchError",
    "OpenAIEmbedder",
    "Passage",
    "QuestionGroup",
    "Section",
    "SourceError",
    "StaleDocument",
    "add_documents",
    "confidence",
    "embed_pending",
    "embedder_from_env",
    "ingest",
    "record_unanswered",
    "stale_documents",
    "unanswered_groups",
]
