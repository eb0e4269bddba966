"""Weighted sampling without replacement, reproducible, with its inclusion probabilities.

Each item gets the key ``log(u) / weight`` (Efraimidis and Spirakis, 2006), ``u``
uniform from a hash of the seed and the item's id, and the ``n`` largest keys
win: the same draw as picking items one by one with probability proportional to
weight.  The same seed gives the same sample, and an item's key does not move
when other items come or go.  Its probability of being picked is approximated
by ``1 − exp(−weight · t)`` with ``t`` such that the probabilities sum to ``n``
(Rosén's approximation for this kind of sampling), which the weighted
hallucination rate divides by.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping

__all__ = ["inclusion_probabilities", "sample_keys"]


def _uniform(seed: str, item: str) -> float:
    digest = hashlib.sha256(f"{seed}\x00{item}".encode()).digest()
    return (int.from_bytes(digest[:8], "big") + 0.5) / 2**64  # in (0, 1)


def sample_keys(seed: str, weights: Mapping[str, float]) -> list[str]:
    """Every item, in the order the draw picks them (take the first ``n``)."""
    keys = {item: math.log(_uniform(seed, item)) / w for item, w in weights.items() if w > 0}
    return sorted(keys, key=lambda item: (-keys[item], item))


def inclusion_probabilities(weights: Mapping[str, float], n: int) -> dict[str, float]:
    """Each item's approximate probability of being among ``n`` drawn."""
    items = {k: w for k, w in weights.items() if w > 0}
    if n >= len(items):
        return dict.fromkeys(items, 1.0)
    if n <= 0:
        return dict.fromkeys(items, 0.0)

    def expected(t: float) -> float:
        return sum(1.0 - math.exp(-w * t) for w in items.values())

    low, high = 0.0, 1.0
    while expected(high) < n:
        high *= 2.0
    for _ in range(100):  # bisection to well below float noise in the sums we use
        mid = (low + high) / 2
        low, high = (mid, high) if expected(mid) < n else (low, mid)
    t = (low + high) / 2
    return {k: 1.0 - math.exp(-w * t) for k, w in items.items()}
