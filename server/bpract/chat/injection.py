"""Spotting text that tries to instruct the assistant (a planted prompt injection)."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["looks_like_instructions"]

# Phrases that address an assistant rather than inform a reader. A help article
# says "you can return an item"; an injection says "ignore your instructions".
_PATTERNS: Final = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.!?\n]{0,60}"
    r"\b(?:instruction|instructions|rules|prompt|guidelines|directions|above|before|previous)\b"
    r"|\b(?:system|initial|hidden|original)\s+(?:prompt|instructions|message)\b"
    r"|\byou\s+(?:are|will)\s+(?:now|going\s+to)\s+(?:act|be|pretend|simulate|respond)\b"
    r"|\b(?:act|acting|pretend|roleplay|role-play)\s+(?:as|to\s+be|like)\b"
    r"|\b(?:DAN|STAN|DUDE|AIM)\b(?:\s*mode|:|\])"
    r"|\bdo\s+anything\s+now\b|\bjailbr(?:eak|oken)\b|\bdeveloper\s+mode\b"
    r"|\b(?:say|print|repeat|output|write|type)\s+(?:exactly|verbatim|only|the\s+following)\b"
    r"|\bfrom\s+now\s+on\b|\bnew\s+instructions?\b|\bhijack",
    re.IGNORECASE,
)


def looks_like_instructions(text: str) -> bool:
    """True when ``text`` reads like orders to an AI assistant rather than help content."""
    return _PATTERNS.search(text) is not None
