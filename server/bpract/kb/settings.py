"""Settings of the knowledge base: which embedder it uses."""

from __future__ import annotations

from dataclasses import dataclass

from bpract.settings import env

__all__ = ["KBSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class KBSettings:
    embeddings_model: str = env("BPRACT_EMBEDDINGS_MODEL", "")
    """An embedding model served by an OpenAI-compatible API; empty: the offline MiniLM."""

    embeddings_url: str = env("BPRACT_EMBEDDINGS_URL", "")
    """That API's base URL, with ``/v1`` (default: OpenAI's)."""

    embeddings_key_env: str = "BPRACT_EMBEDDINGS_API_KEY"
    """The variable holding that API's key (``OPENAI_API_KEY`` is tried after it)."""
