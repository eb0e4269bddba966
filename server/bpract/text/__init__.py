"""Text without a model: words for matching, sentences, the extractive answer."""

from __future__ import annotations

from bpract.text.quotes import Quote, quote
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
    "Quote",
    "content_words",
    "fold",
    "quote",
    "sentences",
    "spoken_words",
    "terms",
    "words",
]
