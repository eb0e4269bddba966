"""PDF with pypdf: the outline (bookmarks) names sections when present, else one per page."""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader
from pypdf.errors import PyPdfError

from bpract.kb.errors import SourceError
from bpract.kb.parse.sections import iso_date
from bpract.kb.types import Document, Section

__all__ = ["parse_pdf"]


def _outline_pages(reader: PdfReader) -> dict[int, str]:
    """First-level bookmark title of each page where one starts."""
    starts: dict[int, str] = {}
    try:
        outline: list[Any] = list(reader.outline)
        for item in outline:
            if isinstance(item, list):
                continue
            page = reader.get_destination_page_number(item)
            if page is not None:
                starts.setdefault(page, str(item.title).strip())
    except (PyPdfError, KeyError, AttributeError, TypeError):
        return {}
    return starts


def parse_pdf(
    data: bytes, *, source: str, url: str | None, fallback_title: str, updated_at: str | None
) -> Document:
    try:
        reader = PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        meta = reader.metadata
    except (PyPdfError, ValueError, OSError) as exc:
        raise SourceError(f"{source}: not a readable PDF ({exc})") from exc
    title = (meta.title if meta and meta.title else "") or fallback_title
    date = iso_date(meta.modification_date or meta.creation_date) if meta else None
    starts = _outline_pages(reader)
    sections: list[Section] = []
    current = title
    for number, text in enumerate(pages):
        current = starts.get(number, current)
        if text.strip():
            sections.append(Section(f"{current} (p. {number + 1})", text.strip()))
    return Document(
        source=source,
        title=title.strip(),
        url=url,
        updated_at=date or updated_at,
        sections=tuple(sections),
    )
