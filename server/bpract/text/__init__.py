"""Text without a model: words for matching, sentences."""

from __future__ import annotations

from bpract.text.sentences import sentences
from bpract.text.words import (
    STOP_WORDS,
    WORD,
    content_words,
    fold,
    spoken_words,
    terms,
    words,
)

__all__ = [
    "STOP_WORDS",
    "WORD",
    "content_words",
    "fold",
    "sentences",
    "spoken_words",
    "terms",
    "words",
]
