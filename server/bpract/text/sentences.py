"""A help text cut into sentences: list items and wrapped lines unwrapped, tables left out."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["sentences"]

_SENTENCE_END: Final = re.compile(r"(?<=[.!?])\s+(?=[^\s])")
_BULLET: Final = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")


def sentences(text: str) -> list[str]:
    """Sentences of a chunk: list items and paragraphs unwrapped, then split at full stops."""
    blocks: list[str] = []
    for line in text.splitlines():
        if not line.strip():
            blocks.append("")
        elif _BULLET.match(line) or not blocks or not blocks[-1]:
            blocks.append(_BULLET.sub("", line).strip())
        else:
            blocks[-1] += " " + line.strip()
    out: list[str] = []
    for block in blocks:
        out.extend(s.strip() for s in _SENTENCE_END.split(block) if s.strip())
    return [s for s in out if not s.startswith("|")]  # table rows read badly out of context
