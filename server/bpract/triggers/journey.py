"""The compact journey a decider sees: the fire's context, recent signals, identity traits.

Only known context keys pass; strings, lists and maps are cut to fixed sizes,
and the whole is kept under :data:`MAX_JOURNEY_CHARS` of JSON: the oldest
signals go first, then the page list, then every limit tightens.  Identity
proofs (``user_hash``) and the user id never enter it: whether the visitor is
identified, and their traits, is enough.
"""

from __future__ import annotations

import json
from typing import Any

import apsw

from bpract.visitors.storage import recent_signals, visitor_traits

__all__ = ["MAX_JOURNEY_CHARS", "RECENT_SIGNALS", "build_journey", "load_journey"]

#: Most signal rows read from the database for one decision.
RECENT_SIGNALS = 20
#: Upper bound on the journey's JSON size (about 1,000 tokens).
MAX_JOURNEY_CHARS = 4000

_CONTEXT_KEYS = (
    "page", "title", "signals", "cart", "journey", "session", "visitor",
    "device", "utm_source", "referrer",
)  # fmt: skip
#: Successively tighter (string length, list items, map keys) used until the journey fits.
Level = tuple[int, int, int]
_LEVELS: tuple[Level, ...] = ((200, 10, 20), (80, 5, 10), (40, 3, 5))
_MAX_DEPTH = 3
_SECRET_KEYS = frozenset({"user_hash", "hash", "identity", "user_id", "token", "secret"})


def _compact(value: Any, level: Level, depth: int = 0) -> Any:
    """``value`` as bounded JSON-able data: short strings, few items, shallow nesting."""
    chars, n_items, n_keys = level
    if isinstance(value, bool | int | float) or value is None:
        return value
    if isinstance(value, str):
        return value[:chars]
    if depth >= _MAX_DEPTH:
        return None
    if isinstance(value, dict):
        items = [(str(k)[:64], v) for k, v in value.items() if str(k) not in _SECRET_KEYS]
        return {k: _compact(v, level, depth + 1) for k, v in items[:n_keys]}
    if isinstance(value, list | tuple):
        return [_compact(v, level, depth + 1) for v in list(value)[-n_items:]]
    return str(value)[:chars]


def _fitted(
    context: dict[str, Any],
    recent: list[Any],
    identity: dict[str, Any],
    level: Level,
) -> dict[str, Any]:
    journey = {k: _compact(context[k], level) for k in _CONTEXT_KEYS if k in context}
    journey |= {k: _compact(v, level) for k, v in identity.items()}
    signals = [_compact(s, level) for s in recent[-RECENT_SIGNALS:]]
    journey["recent_signals"] = signals
    while signals and len(_dumps(journey)) > MAX_JOURNEY_CHARS:
        signals.pop(0)  # the oldest signal is worth least
    if len(_dumps(journey)) > MAX_JOURNEY_CHARS:
        journey.pop("journey", None)  # then the list of pages
    return journey


def build_journey(
    context: dict[str, Any],
    *,
    recent: list[dict[str, Any]] | None = None,
    identified: bool = False,
    traits: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The journey from a fire's ``context``, ``recent`` signals (oldest first) and identity."""
    identity: dict[str, Any] = {"identified": identified}
    if identified and traits:
        identity["traits"] = traits
    for level in _LEVELS:
        journey = _fitted(context, recent or [], identity, level)
        if len(_dumps(journey)) <= MAX_JOURNEY_CHARS:
            return journey
    # Past every level only the essentials remain, cut short.
    return {"page": str(context.get("page", ""))[:100], "identified": identified}


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def load_journey(
    conn: apsw.Connection, site_id: int, visitor: str, context: dict[str, Any]
) -> dict[str, Any]:
    """:func:`build_journey` with the visitor's recent signals and traits from the database."""
    rows = recent_signals(conn, site_id, visitor, RECENT_SIGNALS)
    recent = [{"name": name, "data": _loads(data)} for name, data in rows]
    who = visitor_traits(conn, site_id, visitor)
    identified = bool(who and who[0] is not None)
    traits = _loads(who[1]) if identified and who and who[1] else None
    return build_journey(
        context,
        recent=recent,
        identified=identified,
        traits=traits if isinstance(traits, dict) else None,
    )


def _loads(raw: str) -> Any:
    try:
        return json.loads(raw)
    except ValueError:
        return None
