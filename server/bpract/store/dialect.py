"""SQL that differs between engines, as small functions; this is SQLite's side of each.

Features write portable SQL (``INSERT … ON CONFLICT (cols) DO …``, ``RETURNING``)
and reach for one of these only where the engines truly disagree.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

__all__ = ["greatest", "id_list", "id_list_value", "least"]


def greatest(*terms: str) -> str:
    """The larger of ``terms`` (SQLite's many-argument ``max``; PostgreSQL ``GREATEST``)."""
    return f"max({', '.join(terms)})"


def least(*terms: str) -> str:
    """The smaller of ``terms`` (SQLite's many-argument ``min``; PostgreSQL ``LEAST``)."""
    return f"min({', '.join(terms)})"


def id_list(param: str = "?") -> str:
    """A sub-select of the integers bound to ``param`` by :func:`id_list_value`."""
    return f"SELECT value FROM json_each({param})"  # noqa: S608 - a placeholder, no values


def id_list_value(ids: Iterable[int]) -> str:
    """The value to bind for :func:`id_list`: one parameter, however many ids."""
    return json.dumps(list(ids))
