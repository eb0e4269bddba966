"""Embeddings from any OpenAI-compatible ``/v1/embeddings`` endpoint."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import openai

from bpract.kb.embed.base import Vectors, normalize
from bpract.kb.errors import EmbeddingError
from bpract.net import NetSettings, allowlist_for, guarded_http_sync

__all__ = ["OpenAIEmbedder"]


class OpenAIEmbedder:
    """Calls ``POST {base_url}/embeddings`` through the ``openai`` SDK, in batches.

    ``dim`` is learnt from the first answer when not given; the index then
    records ``openai:{model}`` as the model that built it.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str,
        *,
        dim: int | None = None,
        batch_size: int = 128,
        timeout: float = 60.0,
        max_retries: int = 2,
        net: NetSettings | None = None,
    ) -> None:
        self.model = model
        self.batch_size = batch_size
        self._dim = dim
        # The endpoint is configured by the operator: its origin is trusted even on loopback.
        net = net or NetSettings()
        http = guarded_http_sync(net, allowlist=allowlist_for(net, base_url))
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=api_key,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http,
        )

    @property
    def name(self) -> str:
        return f"openai:{self.model}"

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.embed(["dimension probe"]).shape[1])
        return self._dim

    def _batch(self, texts: list[str]) -> list[list[float]]:
        try:
            resp = self._client.embeddings.create(model=self.model, input=texts)
        except openai.OpenAIError as exc:
            raise EmbeddingError(f"embeddings API call failed ({self.model}): {exc}") from exc
        rows = sorted(resp.data, key=lambda d: d.index)
        if len(rows) != len(texts):
            raise EmbeddingError(
                f"embeddings API returned {len(rows)} vectors for {len(texts)} texts"
            )
        return [list(r.embedding) for r in rows]

    def embed(self, texts: Sequence[str]) -> Vectors:
        rows: list[list[float]] = []
        for start in range(0, len(texts), self.batch_size):
            rows.extend(self._batch([t or " " for t in texts[start : start + self.batch_size]]))
        if not rows:
            return np.zeros((0, self._dim or 0), dtype=np.float32)
        out = normalize(np.array(rows, dtype=np.float32))
        if self._dim is None:
            self._dim = int(out.shape[1])
        elif out.shape[1] != self._dim:
            raise EmbeddingError(f"expected {self._dim}-dimensional vectors, got {out.shape[1]}")
        return out
