"""Citations: the passages an answer actually cites, renumbered [1], [2] in order of first use."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

from bpract.chat.extractive import Extract
from bpract.links import safe_link
from bpract.wire.frames import Citation

if TYPE_CHECKING:
    from bpract.kb import Passage

__all__ = ["citation", "cite", "render_extract", "stored_citation"]

# "[2]", "[1, 3]", "[1][2]" (each bracket is matched on its own).
_MARKER: Final = re.compile(r"\[(\d{1,2}(?:\s*,\s*\d{1,2})*)\]")


def citation(n: int, passage: Passage) -> Citation:
    """Passage ``n``; a URL a browser should not follow (``bpract.links``) is left out."""
    return Citation(n=n, title=passage.title, url=safe_link(passage.url), section=passage.section)


def stored_citation(stored: dict[str, Any]) -> Citation:
    """A citation as stored with its answer, its URL checked again (it may predate the check)."""
    return Citation(**{**stored, "url": safe_link(stored.get("url"))})


def cite(text: str, passages: Sequence[Passage]) -> tuple[str, list[Citation], list[Passage]]:
    """Renumber the markers of a model's ``text`` (which numbered ``passages`` from 1).

    Markers naming no passage are removed; passages never cited are left out.
    """
    order: list[int] = []

    def renumber(match: re.Match[str]) -> str:
        new = []
        for raw in match[1].split(","):
            i = int(raw) - 1
            if not 0 <= i < len(passages):
                continue
            if i not in order:
                order.append(i)
            new.append(f"[{order.index(i) + 1}]")
        return "".join(dict.fromkeys(new))

    out = _MARKER.sub(renumber, text)
    out = re.sub(r"[ \t]+([.,;:!?])", r"\1", out).strip()
    cited = [passages[i] for i in order]
    return out, [citation(n, p) for n, p in enumerate(cited, start=1)], cited


def render_extract(extract: Extract, intro: str) -> tuple[str, list[Citation]]:
    """``intro``, then the quoted sentences, each passage's marker after its last sentence."""
    parts: list[str] = []
    for k, (sentence, p) in enumerate(extract.quotes):
        last = k + 1 == len(extract.quotes) or extract.quotes[k + 1][1] != p
        parts.append(f"{sentence} [{p + 1}]" if last else sentence)
    text = intro + "\n\n" + " ".join(parts)
    return text, [citation(n, p) for n, p in enumerate(extract.passages, start=1)]
