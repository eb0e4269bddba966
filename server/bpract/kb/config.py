"""The embedder :class:`KBSettings` names: an OpenAI-compatible API if configured, else MiniLM."""

from __future__ import annotations

import os
from collections.abc import Mapping

from bpract.kb.embed.base import Embedder
from bpract.kb.embed.minilm import MiniLMEmbedder
from bpract.kb.embed.openai import OpenAIEmbedder
from bpract.kb.errors import EmbeddingError
from bpract.kb.settings import KBSettings
from bpract.net import NetSettings
from bpract.settings import read_section

__all__ = ["embedder_for", "embedder_from_env"]

_DEFAULT_URL = "https://api.openai.com/v1"


def embedder_for(settings: KBSettings, env: Mapping[str, str]) -> Embedder:
    """The embedder of ``settings``; its API key is looked up in ``env`` by name."""
    model, url = settings.embeddings_model, settings.embeddings_url
    if not model:
        if url:
            raise EmbeddingError("BPRACT_EMBEDDINGS_URL is set but BPRACT_EMBEDDINGS_MODEL is not")
        return MiniLMEmbedder()
    key = env.get(settings.embeddings_key_env) or env.get("OPENAI_API_KEY") or ""
    if not key and not url:
        raise EmbeddingError(
            "BPRACT_EMBEDDINGS_MODEL needs BPRACT_EMBEDDINGS_API_KEY (or a local URL)"
        )
    net = read_section(NetSettings, env)
    return OpenAIEmbedder(url or _DEFAULT_URL, model, key or "none", net=net)


def embedder_from_env(environ: Mapping[str, str] | None = None) -> Embedder:
    """:func:`embedder_for` with the settings and keys of ``environ`` (default: the process's)."""
    env = os.environ if environ is None else environ
    return embedder_for(read_section(KBSettings, env), env)
