"""Builds heading-path sections from a stream of headings and text lines."""

from __future__ import annotations

import datetime as dt
import re

from bpract.kb.types import Section

__all__ = ["SectionBuilder", "iso_date"]

_BLANKS = re.compile(r"\n{3,}")


class SectionBuilder:
    """Feed ``heading(level, text)`` and ``line(text)``; ``sections()`` returns the result."""

    def __init__(self) -> None:
        self._path: list[tuple[int, str]] = []
        self._lines: list[str] = []
        self._done: list[tuple[str, str]] = []
        self.first_h1: str | None = None

    def _flush(self) -> None:
        text = _BLANKS.sub("\n\n", "\n".join(self._lines)).strip()
        if text:
            self._done.append((" > ".join(h for _, h in self._path), text))
        self._lines = []

    def heading(self, level: int, text: str) -> None:
        text = " ".join(text.split())
        self._flush()
        if level == 1 and self.first_h1 is None and text:
            self.first_h1 = text
        while self._path and self._path[-1][0] >= level:
            self._path.pop()
        if text:
            self._path.append((level, text))

    def line(self, text: str) -> None:
        self._lines.append(text.rstrip())

    def sections(self, title: str) -> tuple[Section, ...]:
        self._flush()
        out = []
        for heading, text in self._done:
            # The document title adds nothing as a section name.
            path = heading.removeprefix(title).removeprefix(" > ") if heading != title else ""
            out.append(Section(path or title, text))
        return tuple(out)


def iso_date(value: object) -> str | None:
    """A date-like value (date, datetime, ISO or RFC 2822 string) as ``YYYY-MM-DD``."""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).date().isoformat()
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError):
        return None
