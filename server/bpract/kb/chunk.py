"""Heading-aware chunking: sections never merge; long ones split on paragraphs, then sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bpract.kb.types import Document

__all__ = ["Chunk", "chunk_document", "embedding_text"]

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_PARAGRAPH = re.compile(r"\n\s*\n")


@dataclass(frozen=True, slots=True)
class Chunk:
    ord: int
    section: str
    text: str


def _pieces(text: str, max_words: int) -> list[str]:
    """Paragraphs, with any paragraph over ``max_words`` cut at sentence ends (or hard)."""
    out: list[str] = []
    for raw in _PARAGRAPH.split(text):
        para = raw.strip()
        if not para:
            continue
        if len(para.split()) <= max_words:
            out.append(para)
            continue
        for sentence in _SENTENCE.split(para):
            words = sentence.split()
            out.extend(" ".join(words[i : i + max_words]) for i in range(0, len(words), max_words))
    return out


def _pack(pieces: list[str], max_words: int) -> list[str]:
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for piece in pieces:
        n = len(piece.split())
        if current and size + n > max_words:
            chunks.append("\n\n".join(current))
            current, size = [], 0
        current.append(piece)
        size += n
    if current:
        chunks.append("\n\n".join(current))
    return chunks


def chunk_document(doc: Document, *, max_words: int = 160) -> list[Chunk]:
    """Chunks of at most ``max_words`` words, each inside one section.

    160 words stays under the 256 word pieces MiniLM reads, title and section included.
    """
    out: list[Chunk] = []
    for section in doc.sections:
        for text in _pack(_pieces(section.text, max_words), max_words):
            out.append(Chunk(len(out), section.heading, text))
    return out


def embedding_text(title: str, section: str, text: str) -> str:
    """What the embedder reads for a chunk: its context first, so short chunks keep their topic."""
    head = title if section in ("", title) else f"{title} — {section}"
    return f"{head}\n{text}"
