"""The embedder named by the environment: an OpenAI-compatible API if configured, else MiniLM."""

from __future__ import annotations

import os
from collections.abc import Mapping

from bpract.kb.embed.base import Embedder
from bpract.kb.embed.minilm import MiniLMEmbedder
from bpract.kb.embed.openai import OpenAIEmbedder
from bpract.kb.errors import EmbeddingError

__all__ = ["embedder_from_env"]

_DEFAULT_URL = "https://api.openai.com/v1"


def embedder_from_env(environ: Mapping[str, str] | None = None) -> Embedder:
    """``BPRACT_EMBEDDINGS_MODEL`` (+ ``_URL``, ``_API_KEY`` or ``OPENAI_API_KEY``) selects an API.

    Without them the offline MiniLM model is used.  ``BPRACT_EMBEDDINGS_URL``
    includes ``/v1`` (e.g. ``http://127.0.0.1:11434/v1``).
    """
    env = os.environ if environ is None else environ
    model = env.get("BPRACT_EMBEDDINGS_MODEL", "").strip()
    url = env.get("BPRACT_EMBEDDINGS_URL", "").strip()
    if not model:
        if url:
            raise EmbeddingError("BPRACT_EMBEDDINGS_URL is set but BPRACT_EMBEDDINGS_MODEL is not")
        return MiniLMEmbedder()
    key = env.get("BPRACT_EMBEDDINGS_API_KEY") or env.get("OPENAI_API_KEY") or ""
    if not key and not url:
        raise EmbeddingError(
            "BPRACT_EMBEDDINGS_MODEL needs BPRACT_EMBEDDINGS_API_KEY (or a local URL)"
        )
    return OpenAIEmbedder(url or _DEFAULT_URL, model, key or "none")
