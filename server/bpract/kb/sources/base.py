"""A fetched, not yet parsed, document."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Raw"]


@dataclass(frozen=True, slots=True)
class Raw:
    source: str
    """Absolute path or URL (the document's identity)."""
    kind: str
    """``markdown``, ``html``, ``text`` or ``pdf``."""
    data: bytes
    url: str | None
    fallback_title: str
    updated_at: str | None
