"""Words of a text for matching: one word pattern, one stop list, the plural fold."""

from __future__ import annotations

import re
from typing import Final

__all__ = ["STOP_WORDS", "WORD", "content_words", "fold", "spoken_words", "terms", "words"]

#: A run of letters or digits in any script. ``_`` and apostrophes end a word, as they do
#: for SQLite FTS5's ``unicode61`` tokenizer, so a word found here is one the index holds.
WORD: Final = re.compile(r"[^\W_]+")
# Letters only, with inner apostrophes: "don't" and "quelqu'un" are one word each.
_SPOKEN: Final = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")

#: English function words: nearly every question and help page has them, so they tell
#: nothing about which sentence answers which question. Negations ("not") are here too:
#: a sentence and its denial share every other word; whoever must tell them apart checks
#: negation separately (see ``bpract.quality.claims``).
STOP_WORDS: Final = frozenset(
    {"a", "an", "the", "and", "or", "but", "so", "if", "than", "then", "as", "at", "by"}
    | {"of", "in", "on", "to", "for", "from", "with", "about", "into", "out", "up", "not"}
    | {"i", "me", "my", "you", "your", "we", "us", "our", "they", "their", "it", "its"}
    | {"this", "that", "these", "those", "there", "any", "all", "also", "get"}
    | {"is", "are", "was", "be", "been", "do", "does", "has", "have", "had"}
    | {"can", "could", "will", "would", "should"}
    | {"how", "what", "when", "where", "why", "which", "who"}
)


def words(text: str) -> list[str]:
    """The lower-case words of ``text``, in order, repeats kept."""
    return WORD.findall(text.lower())


def content_words(text: str) -> list[str]:
    """The lower-case words of ``text`` that are not stop words, in order, repeats kept."""
    return [w for w in words(text) if w not in STOP_WORDS]


def fold(word: str) -> str:
    """``word`` without a plural ``s`` ("cards" → "card"; "address", "bus" unchanged)."""
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def terms(text: str) -> list[str]:
    """The content words of ``text``, folded, in order: "Cards arrive" → ["card", "arrive"]."""
    return [fold(w) for w in content_words(text)]


def spoken_words(text: str) -> list[str]:
    """The lower-case words of ``text`` as written: letters only, contractions whole.

    A typographic apostrophe counts as ``'``: "won’t" → ["won't"], "quelqu'un" → ["quelqu'un"].
    """
    return _SPOKEN.findall(text.lower().replace("’", "'"))
