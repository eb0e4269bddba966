"""Plain text: one section; a short first line followed by a blank line is the title."""

from __future__ import annotations

from bpract.kb.types import Document, Section

__all__ = ["parse_text"]


def parse_text(
    text: str, *, source: str, url: str | None, fallback_title: str, updated_at: str | None
) -> Document:
    body = text.strip()
    title = fallback_title
    first, _, rest = body.partition("\n")
    if len(first) <= 120 and rest.startswith("\n"):
        title, body = first.strip(), rest.strip()
    sections = (Section(title, body),) if body else ()
    return Document(source=source, title=title, url=url, updated_at=updated_at, sections=sections)
