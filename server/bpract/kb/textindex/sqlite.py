"""The SQLite text index: FTS5 with the porter stemmer, BM25 weighted by column."""

from __future__ import annotations

from collections.abc import Sequence

import apsw

from bpract.kb.textindex.base import TextIndex
from bpract.text import content_words as words_of

__all__ = ["Fts5Index", "bm25", "content_words", "fts_query", "rarest_words"]

# BM25 column weights: a word in the title or heading says more than one in the body.
_BM25 = "bm25(kb_fts, 2.0, 1.5, 1.0, 0.0)"


def content_words(text: str) -> list[str]:
    """The distinct non-stop words of ``text``, lower-cased, in order (at most 32).

    Unfolded: FTS5's porter tokenizer stems them itself.
    """
    return list(dict.fromkeys(words_of(text)))[:32]


def fts_query(words: Sequence[str]) -> str:
    """An FTS5 OR-query of ``words`` (quoted: no FTS syntax gets through)."""
    return " OR ".join(f'"{w}"' for w in words)


def rarest_words(conn: apsw.Connection, words: Sequence[str], postings: int) -> list[str]:
    """The rarest of ``words`` whose chunk counts add up to at most ``postings`` (one at least).

    FTS5 scores every chunk that holds any query word, so a word found in a
    fifth of the index costs a fifth of the index.  Such a word weighs little
    in BM25 (low IDF) and the vector side understands it anyway; the rare
    words (names, codes) are what BM25 is in the fusion for.
    """
    tokenize = conn.fts5_tokenizer("porter", ["unicode61", "remove_diacritics", "2"])
    stems = {
        w: [
            str(t)
            for t in tokenize(
                w.encode(),
                apsw.FTS5_TOKENIZE_QUERY,
                None,
                include_offsets=False,
                include_colocated=False,
            )
        ]
        for w in words
    }
    terms = sorted({t for ts in stems.values() for t in ts})
    marks = ", ".join("?" * len(terms))
    rows = conn.execute(
        f"SELECT term, doc FROM kb_fts_terms WHERE term IN ({marks})",  # noqa: S608 - only ?s
        terms,
    )
    docs = {str(t): int(n) for t, n in rows}
    # A word of several tokens is a phrase: no commoner than its rarest token.
    count = {w: min((docs.get(t, 0) for t in ts), default=0) for w, ts in stems.items()}
    keep: list[str] = []
    total = 0
    for w in sorted(words, key=lambda w: count[w]):
        if keep and total + count[w] > postings:
            break
        keep.append(w)
        total += count[w]
    return keep


def bm25(
    conn: apsw.Connection, site_id: int, query: str, k: int, *, postings: int | None = None
) -> list[tuple[int, float]]:
    """``(chunk_id, score)`` best first; score is BM25 negated so higher is better.

    With ``postings``, only the query's rarest words are searched (:func:`rarest_words`).
    """
    words = content_words(query)
    if not words:
        return []
    if postings is not None:
        words = rarest_words(conn, words, postings)
    match = fts_query(words)
    tenant_match = f'site : "s{int(site_id)}" AND {{title section text}} : ({match})'
    rows = conn.execute(
        f"SELECT rowid, {_BM25} AS s FROM kb_fts"  # noqa: S608 - a constant, no user text
        " WHERE kb_fts MATCH ? ORDER BY s LIMIT ?",
        (tenant_match, k),
    )
    return [(int(r), -float(s)) for r, s in rows]


class Fts5Index(TextIndex):
    """``kb_fts`` (a contentless-delete FTS5 table keyed by chunk id); the kb_chunks delete
    trigger removes a chunk's row with the chunk."""

    def add(
        self, conn: apsw.Connection, chunk_id: int, site_id: int, *, title: str, section: str,
        text: str,
    ) -> None:  # fmt: skip
        conn.execute(
            "INSERT INTO kb_fts (rowid, title, section, text, site) VALUES (?, ?, ?, ?, ?)",
            (chunk_id, title, section, text, f"s{site_id}"),
        )

    def search(
        self, conn: apsw.Connection, site_id: int, query: str, k: int, *, postings: int | None
    ) -> list[tuple[int, float]]:
        return bm25(conn, site_id, query, k, postings=postings)
