"""Picks the parser for a file suffix or an HTTP content type."""

from __future__ import annotations

from collections.abc import Callable

from bpract.kb.errors import SourceError
from bpract.kb.parse.html import HtmlPage, parse_html
from bpract.kb.parse.markdown import parse_markdown
from bpract.kb.parse.pdf import parse_pdf
from bpract.kb.parse.text import parse_text
from bpract.kb.types import Document

__all__ = ["SUFFIXES", "kind_of", "parse_bytes"]

#: File suffixes ingested from folders, by kind.
SUFFIXES: dict[str, str] = {
    ".md": "markdown",
    ".markdown": "markdown",
    ".html": "html",
    ".htm": "html",
    ".txt": "text",
    ".text": "text",
    ".pdf": "pdf",
}
_TYPES = {
    "text/markdown": "markdown",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "text/plain": "text",
    "application/pdf": "pdf",
}


def kind_of(suffix: str, content_type: str | None = None) -> str | None:
    """The parser kind for a content type, else for the suffix; None if neither is known."""
    if content_type:
        kind = _TYPES.get(content_type.split(";")[0].strip().lower())
        if kind:
            return kind
    return SUFFIXES.get(suffix.lower())


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_bytes(
    data: bytes,
    kind: str,
    *,
    source: str,
    url: str | None,
    fallback_title: str,
    updated_at: str | None,
) -> Document | HtmlPage:
    """Parse ``data`` as ``kind``; HTML returns the page (links, noindex) around its document."""
    if kind == "pdf":
        return parse_pdf(
            data, source=source, url=url, fallback_title=fallback_title, updated_at=updated_at
        )
    parsers: dict[str, Callable[..., Document | HtmlPage]] = {
        "markdown": parse_markdown,
        "html": parse_html,
        "text": parse_text,
    }
    parser = parsers.get(kind)
    if parser is None:
        raise SourceError(f"{source}: unsupported kind {kind!r}")
    return parser(
        _decode(data), source=source, url=url, fallback_title=fallback_title, updated_at=updated_at
    )
