"""The SQLite side of the index: documents, chunks, FTS5 and sqlite-vec rows (DB thread)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import apsw
import numpy as np
import numpy.typing as npt

from bpract.kb.bitscan import BitScan
from bpract.kb.chunk import Chunk
from bpract.kb.embed.base import Vectors
from bpract.kb.types import Document

__all__ = [
    "POSTINGS",
    "SHORTLIST",
    "ChunkRow",
    "StoredDoc",
    "bm25",
    "content_words",
    "delete_documents",
    "ensure_model",
    "fts_query",
    "has_chunks",
    "indexed_model",
    "knn",
    "pending_chunks",
    "quantize",
    "rarest_words",
    "sign_bits",
    "store_vectors",
    "stored_documents",
    "vectors_of",
    "write_document",
]

#: Candidates the bit scan hands to the exact re-scoring (see docs/performance.md).
SHORTLIST = 400
#: Chunk postings a hybrid search's BM25 may score before the commonest words are dropped.
POSTINGS = 20_000
# BM25 column weights: a word in the title or heading says more than one in the body.
_BM25 = "bm25(kb_fts, 2.0, 1.5, 1.0, 0.0)"
_WORD = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "so",
        "than",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "this",
        "to",
        "was",
        "we",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    }
)


@dataclass(frozen=True, slots=True)
class StoredDoc:
    id: int
    content_hash: str
    origin: str


@dataclass(frozen=True, slots=True)
class ChunkRow:
    id: int
    site_id: int
    title: str
    section: str
    text: str


def has_chunks(conn: apsw.Connection, site_id: int) -> bool:
    """True when the site's knowledge base holds anything (False without the kb tables)."""
    try:
        row = conn.execute("SELECT 1 FROM kb_chunks WHERE site_id = ? LIMIT 1", (site_id,))
        return row.fetchone() is not None
    except apsw.SQLError:  # a database without the knowledge-base tables
        return False


def indexed_model(conn: apsw.Connection) -> tuple[str, int] | None:
    """``(model, dim)`` that built the stored vectors, or None before the first vector."""
    row = conn.execute("SELECT model, dim FROM kb_index WHERE id = 1").fetchone()
    return (str(row[0]), int(row[1])) if row else None


def ensure_model(conn: apsw.Connection, model: str, dim: int) -> bool:
    """Make the vectors belong to ``model``; True if existing vectors were dropped to re-embed."""
    current = indexed_model(conn)
    if current == (model, dim):
        return False
    with conn:
        conn.execute("DELETE FROM kb_vectors")
        conn.execute("UPDATE kb_chunks SET embedded_with = NULL WHERE embedded_with IS NOT NULL")
        conn.execute(
            "INSERT INTO kb_index (id, model, dim) VALUES (1, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET model = excluded.model, dim = excluded.dim",
            (model, dim),
        )
    return current is not None


def stored_documents(conn: apsw.Connection, site_id: int) -> dict[str, StoredDoc]:
    rows = conn.execute(
        "SELECT source, id, content_hash, origin FROM kb_documents WHERE site_id = ?", (site_id,)
    )
    return {str(s): StoredDoc(int(i), str(h), str(o)) for s, i, h, o in rows}


def write_document(
    conn: apsw.Connection,
    site_id: int,
    *,
    origin: str,
    doc: Document,
    chunks: Sequence[Chunk],
    now_ms: int,
) -> int:
    """Insert or replace ``doc`` and its chunks (their vectors are added later)."""
    with conn:
        row = conn.execute(
            "INSERT INTO kb_documents (site_id, source, origin, title, url, content_hash, "
            "updated_at, ingested_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (site_id, source) DO UPDATE SET origin = excluded.origin, "
            "title = excluded.title, url = excluded.url, content_hash = excluded.content_hash, "
            "updated_at = excluded.updated_at, ingested_ms = excluded.ingested_ms RETURNING id",
            (
                site_id,
                doc.source,
                origin,
                doc.title,
                doc.url,
                doc.content_hash(),
                doc.updated_at,
                now_ms,
            ),
        ).fetchone()
        assert row is not None  # RETURNING always yields the row
        doc_id = int(row[0])
        conn.execute("DELETE FROM kb_chunks WHERE doc_id = ?", (doc_id,))
        for c in chunks:
            chunk_row = conn.execute(
                "INSERT INTO kb_chunks (site_id, doc_id, ord, section, text) "
                "VALUES (?, ?, ?, ?, ?) RETURNING id",
                (site_id, doc_id, c.ord, c.section, c.text),
            ).fetchone()
            assert chunk_row is not None
            chunk_id = int(chunk_row[0])
            conn.execute(
                "INSERT INTO kb_fts (rowid, title, section, text, site) VALUES (?, ?, ?, ?, ?)",
                (chunk_id, doc.title, c.section, c.text, f"s{site_id}"),
            )
    return doc_id


def delete_documents(conn: apsw.Connection, site_id: int, ids: Iterable[int]) -> int:
    n = 0
    with conn:
        for doc_id in ids:
            conn.execute("DELETE FROM kb_documents WHERE site_id = ? AND id = ?", (site_id, doc_id))
            n += conn.changes()
    return n


def pending_chunks(conn: apsw.Connection, model: str, limit: int) -> list[ChunkRow]:
    """Chunks with no vector from ``model`` yet."""
    rows = conn.execute(
        "SELECT c.id, c.site_id, d.title, c.section, c.text FROM kb_chunks c "
        "JOIN kb_documents d ON d.id = c.doc_id "
        "WHERE c.embedded_with IS NULL OR c.embedded_with != ? ORDER BY c.id LIMIT ?",
        (model, limit),
    )
    return [ChunkRow(int(i), int(s), str(t), str(sec), str(x)) for i, s, t, sec, x in rows]


def quantize(vectors: Vectors) -> npt.NDArray[np.int8]:
    """int8 rows scaled by their own largest component: cosine distance ignores the scale."""
    peak = np.abs(vectors).max(axis=1, keepdims=True)
    peak[peak == 0] = 1.0
    out: npt.NDArray[np.int8] = np.round(vectors / peak * 127.0).astype(np.int8)
    return out


def sign_bits(vector: npt.NDArray[np.int8] | Vectors) -> bytes:
    """One bit per dimension, set when the component is positive (``vec_quantize_binary``)."""
    positive: npt.NDArray[np.bool_] = np.greater(vector, 0)
    return np.packbits(positive, bitorder="little").tobytes()


def store_vectors(
    conn: apsw.Connection, rows: Sequence[ChunkRow], vectors: Vectors, model: str
) -> None:
    q = quantize(vectors)
    with conn:
        for row, vec in zip(rows, q, strict=True):
            conn.execute(
                "INSERT OR REPLACE INTO kb_vectors (chunk_id, site_id, bits, embedding)"
                " VALUES (?, ?, ?, ?)",
                (row.id, row.site_id, sign_bits(vec), vec.tobytes()),
            )
            conn.execute("UPDATE kb_chunks SET embedded_with = ? WHERE id = ?", (model, row.id))


def content_words(text: str) -> list[str]:
    """The distinct non-stop words of ``text``, lower-cased, in order (at most 32)."""
    words: list[str] = []
    for w in _WORD.findall(text.lower()):
        if w not in _STOP and w not in words:
            words.append(w)
    return words[:32]


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


def knn(
    conn: apsw.Connection,
    site_id: int,
    vector: Vectors,
    k: int,
    *,
    scan: BitScan,
    shortlist: int = SHORTLIST,
) -> list[tuple[int, float]]:
    """``(chunk_id, cosine similarity)`` of the ``k`` nearest chunks of one site.

    The ``shortlist`` chunks nearest by Hamming distance between sign bits
    are re-scored exactly from their int8 vectors; a site with no more
    chunks than that gets the exact answer.
    """
    q = quantize(vector.reshape(1, -1))[0]
    near = scan.nearest(conn, site_id, sign_bits(q), max(shortlist, k))
    if not near:
        return []
    rows: list[tuple[int, bytes]] = conn.execute(  # type: ignore[assignment]
        "SELECT chunk_id, embedding FROM kb_vectors"
        " WHERE chunk_id IN (SELECT value FROM json_each(?)) AND site_id = ?",
        (json.dumps(near), site_id),
    ).fetchall()
    if not rows:
        return []
    sims = _cosines(rows, vector)
    best = np.argsort(-sims, kind="stable")[:k]
    return [(int(rows[i][0]), float(sims[i])) for i in best]


def _cosines(rows: Sequence[tuple[int, bytes]], vector: Vectors) -> npt.NDArray[np.float32]:
    stored = np.frombuffer(b"".join(r[1] for r in rows), dtype=np.int8)
    m = stored.reshape(len(rows), -1).astype(np.float32)
    m /= np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-9)
    q = vector.astype(np.float32) / max(float(np.linalg.norm(vector)), 1e-9)
    out: npt.NDArray[np.float32] = m @ q
    return out


def vectors_of(conn: apsw.Connection, site_id: int, ids: Sequence[int]) -> dict[int, Vectors]:
    """Stored (dequantised, unit-length) vectors of some chunks of one site."""
    out: dict[int, Vectors] = {}
    for chunk_id in ids:
        row = conn.execute(
            "SELECT embedding FROM kb_vectors WHERE chunk_id = ? AND site_id = ?",
            (chunk_id, site_id),
        ).fetchone()
        if row:
            v = np.frombuffer(row[0], dtype=np.int8).astype(np.float32)
            out[chunk_id] = v / max(float(np.linalg.norm(v)), 1e-9)
    return out
