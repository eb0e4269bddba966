"""The SQLite side of the index: documents, chunks, FTS5 and sqlite-vec rows (DB thread)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import apsw
import numpy as np
import numpy.typing as npt

from bpract.kb.chunk import Chunk
from bpract.kb.embed.base import Vectors
from bpract.kb.types import Document

__all__ = [
    "ChunkRow",
    "StoredDoc",
    "bm25",
    "delete_documents",
    "ensure_model",
    "fts_query",
    "indexed_model",
    "knn",
    "pending_chunks",
    "quantize",
    "store_vectors",
    "stored_documents",
    "vectors_of",
    "write_document",
]

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


def indexed_model(conn: apsw.Connection) -> tuple[str, int] | None:
    """``(model, dim)`` that built ``kb_vec``, or None before the first vector."""
    row = conn.execute("SELECT model, dim FROM kb_index WHERE id = 1").fetchone()
    return (str(row[0]), int(row[1])) if row else None


def ensure_model(conn: apsw.Connection, model: str, dim: int) -> bool:
    """Make ``kb_vec`` belong to ``model``; True if existing vectors were dropped to re-embed."""
    current = indexed_model(conn)
    if current == (model, dim):
        return False
    with conn:
        if current is not None or dim != 384:
            conn.execute("DROP TABLE kb_vec")
            conn.execute(
                "CREATE VIRTUAL TABLE kb_vec USING vec0(chunk_id INTEGER PRIMARY KEY, "
                f"site_id INTEGER PARTITION KEY, embedding int8[{int(dim)}] distance_metric=cosine)"
            )
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


def store_vectors(
    conn: apsw.Connection, rows: Sequence[ChunkRow], vectors: Vectors, model: str
) -> None:
    q = quantize(vectors)
    with conn:
        for row, vec in zip(rows, q, strict=True):
            conn.execute("DELETE FROM kb_vec WHERE chunk_id = ?", (row.id,))
            conn.execute(
                "INSERT INTO kb_vec (chunk_id, site_id, embedding) VALUES (?, ?, vec_int8(?))",
                (row.id, row.site_id, vec.tobytes()),
            )
            conn.execute("UPDATE kb_chunks SET embedded_with = ? WHERE id = ?", (model, row.id))


def fts_query(text: str) -> str:
    """An FTS5 OR-query of the content words of ``text`` (quoted: no FTS syntax gets through)."""
    words: list[str] = []
    for w in _WORD.findall(text.lower()):
        if w not in _STOP and w not in words:
            words.append(w)
    return " OR ".join(f'"{w}"' for w in words[:32])


def bm25(conn: apsw.Connection, site_id: int, query: str, k: int) -> list[tuple[int, float]]:
    """``(chunk_id, score)`` best first; score is BM25 negated so higher is better."""
    match = fts_query(query)
    if not match:
        return []
    tenant_match = f'site : "s{int(site_id)}" AND {{title section text}} : ({match})'
    rows = conn.execute(
        f"SELECT rowid, {_BM25} AS s FROM kb_fts"  # noqa: S608 - a constant, no user text
        " WHERE kb_fts MATCH ? ORDER BY s LIMIT ?",
        (tenant_match, k),
    )
    return [(int(r), -float(s)) for r, s in rows]


def knn(conn: apsw.Connection, site_id: int, vector: Vectors, k: int) -> list[tuple[int, float]]:
    """``(chunk_id, cosine similarity)`` of the ``k`` nearest chunks of one site."""
    q = quantize(vector.reshape(1, -1))[0]
    rows = conn.execute(
        "SELECT chunk_id, distance FROM kb_vec WHERE embedding MATCH vec_int8(?) AND k = ? "
        "AND site_id = ?",
        (q.tobytes(), k, site_id),
    )
    return [(int(c), 1.0 - float(d)) for c, d in rows]


def vectors_of(conn: apsw.Connection, site_id: int, ids: Sequence[int]) -> dict[int, Vectors]:
    """Stored (dequantised, unit-length) vectors of some chunks of one site."""
    out: dict[int, Vectors] = {}
    for chunk_id in ids:
        row = conn.execute(
            "SELECT embedding FROM kb_vec WHERE chunk_id = ? AND site_id = ?", (chunk_id, site_id)
        ).fetchone()
        if row:
            v = np.frombuffer(row[0], dtype=np.int8).astype(np.float32)
            out[chunk_id] = v / max(float(np.linalg.norm(v)), 1e-9)
    return out
