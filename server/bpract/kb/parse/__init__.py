"""Parsers: Markdown, HTML, plain text and PDF into a :class:`~bpract.kb.types.Document`."""

from __future__ import annotations

from bpract.kb.parse.dispatch import SUFFIXES, parse_bytes

__all__ = ["SUFFIXES", "parse_bytes"]
