"""Paths into a document and "did you mean" suggestions, for validations that report every
problem with where it is (rules, declared actions)."""

from __future__ import annotations

import difflib
from collections.abc import Collection

__all__ = ["join_path", "suggest"]


def join_path(path: str, key: str | int) -> str:
    """``rules`` + 0 → ``rules[0]``; ``rules[0]`` + ``when`` → ``rules[0].when``."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else key


def suggest(key: str, known: Collection[str]) -> str:
    """`` — did you mean 'x'?`` for the closest of ``known``, else the list of them."""
    if not known:
        return " (none declared)"
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    return f" — did you mean {close[0]!r}?" if close else f" (known: {', '.join(sorted(known))})"
