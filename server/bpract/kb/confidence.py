"""How sure retrieval is that a passage answers the query: a logistic model on two signals.

The signals are the query–chunk cosine similarity (MiniLM, or whichever model
built the index) and whether BM25 ranked the same chunk near the top too.
Coefficients are fitted by ``bench/kb_calibrate.py`` on StackFAQ: positives are
questions whose answer is in the index, negatives the same questions asked of
an index with their answer removed.  See docs/kb.md for the reliability table.
"""

from __future__ import annotations

import math

__all__ = ["ANSWER_THRESHOLD", "confidence"]

# Fitted by bench/kb_calibrate.py (see docs/kb.md).
_W_SIMILARITY = 18.6
_W_BM25_TOP3 = 0.69
_BIAS = -11.64

#: Below this, the chat should say it does not know rather than answer from the passages.
ANSWER_THRESHOLD = 0.5


def confidence(similarity: float | None, bm25_rank: int | None) -> float | None:
    """Estimated probability that the passage answers the query; None without a similarity."""
    if similarity is None:
        return None
    agree = 1.0 if bm25_rank is not None and bm25_rank <= 3 else 0.0
    z = _W_SIMILARITY * similarity + _W_BM25_TOP3 * agree + _BIAS
    return 1.0 / (1.0 + math.exp(-z))
