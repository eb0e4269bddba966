"""Embedders: the offline MiniLM model, the OpenAI-compatible client, and configuration."""

from __future__ import annotations

import numpy as np
import pytest

from bpract.kb import EmbeddingError, MiniLMEmbedder, OpenAIEmbedder, embedder_from_env

from .conftest import HttpSite, Route


def test_minilm_is_semantic_and_unit_length(minilm: MiniLMEmbedder) -> None:
    v = minilm.embed(
        [
            "How do I get a refund?",
            "I want my money back for this order",
            "The train leaves from platform nine.",
            "",
        ]
    )
    assert v.shape == (4, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert v[0] @ v[1] > 0.4 > v[0] @ v[2]
    assert minilm.embed([]).shape == (0, 384)


def test_minilm_batches_do_not_change_results(minilm: MiniLMEmbedder) -> None:
    texts = ["short", "a much longer sentence about shipping costs and delivery times " * 3]
    together = minilm.embed(texts)
    alone = np.vstack([minilm.embed([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-5)


def test_minilm_truncates_long_inputs(minilm: MiniLMEmbedder) -> None:
    assert minilm.embed(["word " * 2000]).shape == (1, 384)


class Failing(HttpSite):
    def post(self, path: str, payload: dict[str, object]) -> Route:
        return (500, "application/json", b'{"error": {"message": "boom"}}')


def test_openai_errors_become_embedding_errors() -> None:
    api = Failing()
    api.thread.start()
    try:
        emb = OpenAIEmbedder(api.url + "/v1", "m", "k", dim=8, max_retries=0)
        with pytest.raises(EmbeddingError, match="embeddings API call failed"):
            emb.embed(["x"])
    finally:
        api.server.shutdown()
        api.server.server_close()


def test_embedder_from_env() -> None:
    assert isinstance(embedder_from_env({}), MiniLMEmbedder)
    api = embedder_from_env(
        {"BPRACT_EMBEDDINGS_MODEL": "nomic", "BPRACT_EMBEDDINGS_URL": "http://127.0.0.1:1/v1"}
    )
    assert isinstance(api, OpenAIEmbedder) and api.name == "openai:nomic"
    with pytest.raises(EmbeddingError, match="MODEL is not"):
        embedder_from_env({"BPRACT_EMBEDDINGS_URL": "http://127.0.0.1:1/v1"})
    with pytest.raises(EmbeddingError, match="needs BPRACT_EMBEDDINGS_API_KEY"):
        embedder_from_env({"BPRACT_EMBEDDINGS_MODEL": "text-embedding-3-small"})
