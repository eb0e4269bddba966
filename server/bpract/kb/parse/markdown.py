"""Markdown: optional YAML front matter, ATX headings (outside code fences) split sections."""

from __future__ import annotations

import re
from typing import Any

import yaml

from bpract.kb.parse.sections import SectionBuilder, iso_date
from bpract.kb.types import Document

__all__ = ["parse_markdown"]

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_FENCE = re.compile(r"^\s*(```|~~~)")
_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.DOTALL)
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|`)")


def _front_matter(text: str) -> tuple[dict[str, Any], str]:
    match = _FRONT.match(text)
    if not match:
        return {}, text
    try:
        meta = yaml.safe_load(match[1])
    except yaml.YAMLError:
        return {}, text
    return (meta if isinstance(meta, dict) else {}), text[match.end() :]


def _clean(line: str) -> str:
    return _EMPHASIS.sub("", _LINK.sub(r"\1", line))


def parse_markdown(
    text: str, *, source: str, url: str | None, fallback_title: str, updated_at: str | None
) -> Document:
    meta, body = _front_matter(text)
    builder = SectionBuilder()
    in_fence = False
    for line in body.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
        heading = None if in_fence else _HEADING.match(line)
        if heading:
            builder.heading(len(heading[1]), _clean(heading[2]))
        else:
            builder.line(line if in_fence else _clean(line))
    title = str(meta.get("title") or builder.first_h1 or fallback_title)
    date = iso_date(meta.get("updated") or meta.get("last_updated") or meta.get("date"))
    return Document(
        source=source,
        title=title,
        url=str(meta["url"]) if meta.get("url") else url,
        updated_at=date or updated_at,
        sections=builder.sections(title),
    )
