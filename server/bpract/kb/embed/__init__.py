"""Embedders: the offline MiniLM default and any OpenAI-compatible API."""

from __future__ import annotations

from bpract.kb.embed.base import Embedder, Vectors, normalize
from bpract.kb.embed.minilm import MiniLMEmbedder
from bpract.kb.embed.openai import OpenAIEmbedder

__all__ = ["Embedder", "MiniLMEmbedder", "OpenAIEmbedder", "Vectors", "normalize"]
