"""The knowledge base's own tables: documents, chunks, the embedding model, unanswered questions.

Words and vectors go to the text and vector indexes chosen in :mod:`bpract.kb.backends`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import apsw

from bpract.kb.backends import TEXT_INDEX, vector_index
from bpract.kb.chunk import Chunk
from bpract.kb.embed.base import Vectors
from bpract.kb.types import Document
from bpract.store import insert_id, transaction

__all__ = [
    "POSTINGS",
    "ChunkRow",
    "StoredDoc",
    "delete_documents",
    "ensure_model",
    "has_chunks",
    "indexed_model",
    "insert_unanswered",
    "passage_rows",
    "pending_chunks",
    "recent_unanswered",
    "stale_rows",
    "store_vectors",
    "stored_documents",
    "write_document",
]

#: Chunk postings a hybrid search's BM25 may score before the commonest words are dropped.
POSTINGS = 20_000


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
    with transaction(conn):
        vector_index().clear(conn)
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
    with transaction(conn):
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
            TEXT_INDEX.add(conn, chunk_id, site_id, title=doc.title, section=c.section, text=c.text)
    return doc_id


def delete_documents(conn: apsw.Connection, site_id: int, ids: Iterable[int]) -> int:
    n = 0
    with transaction(conn):
        for doc_id in ids:
            gone = conn.execute(
                "DELETE FROM kb_documents WHERE site_id = ? AND id = ? RETURNING id",
                (site_id, doc_id),
            ).fetchall()
            n += len(gone)
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


def store_vectors(
    conn: apsw.Connection, rows: Sequence[ChunkRow], vectors: Vectors, model: str
) -> None:
    """Store the chunks' vectors and mark them embedded by ``model``, in one transaction."""
    with transaction(conn):
        vector_index().store(conn, [(row.id, row.site_id) for row in rows], vectors)
        conn.executemany(
            "UPDATE kb_chunks SET embedded_with = ? WHERE id = ?", [(model, r.id) for r in rows]
        )


def passage_rows(
    conn: apsw.Connection, site_id: int, ids: Sequence[int]
) -> dict[int, tuple[int, str, str | None, str, str, str | None, str]]:
    """Per chunk id: ``(doc_id, title, url, section, text, updated_at, source)``."""
    out = {}
    for chunk_id in ids:
        row = conn.execute(
            "SELECT c.doc_id, d.title, d.url, c.section, c.text, d.updated_at, d.source "
            "FROM kb_chunks c JOIN kb_documents d ON d.id = c.doc_id "
            "WHERE c.id = ? AND c.site_id = ?",
            (chunk_id, site_id),
        ).fetchone()
        if row is not None:
            doc_id, title, url, section, text, updated_at, source = row
            out[chunk_id] = (
                int(doc_id), str(title), None if url is None else str(url), str(section),
                str(text), None if updated_at is None else str(updated_at), str(source),
            )  # fmt: skip
    return out


def insert_unanswered(
    conn: apsw.Connection, site_id: int, question: str, asked_ms: int, best_score: float | None
) -> int:
    return insert_id(
        conn,
        "INSERT INTO kb_unanswered (site_id, question, asked_ms, best_score) "
        "VALUES (?, ?, ?, ?) RETURNING id",
        (site_id, question, asked_ms, best_score),
    )


def recent_unanswered(
    conn: apsw.Connection, site_id: int, since_ms: int, limit: int
) -> list[tuple[str, int, float | None]]:
    """``(question, asked_ms, best_score)`` newest first."""
    rows = conn.execute(
        "SELECT question, asked_ms, best_score FROM kb_unanswered WHERE site_id = ? "
        "AND asked_ms >= ? ORDER BY asked_ms DESC LIMIT ?",
        (site_id, since_ms, limit),
    )
    return [(str(q), int(a), None if b is None else float(b)) for q, a, b in rows]


def stale_rows(
    conn: apsw.Connection, site_id: int, cutoff: str
) -> list[tuple[int, str, str, str | None]]:
    """``(id, title, source, updated_at)`` of documents older than ``cutoff`` or undated."""
    rows = conn.execute(
        "SELECT id, title, source, updated_at FROM kb_documents WHERE site_id = ? "
        "AND (updated_at IS NULL OR updated_at < ?) ORDER BY updated_at IS NOT NULL, "
        "updated_at, title",
        (site_id, cutoff),
    )
    return [(int(i), str(t), str(s), None if u is None else str(u)) for i, t, s, u in rows]
