"""The SQLite vector index: sign bits scanned in memory, then int8 vectors re-scored exactly."""

from __future__ import annotations

from collections.abc import Sequence

import apsw
import numpy as np
import numpy.typing as npt

from bpract.kb.embed.base import Vectors
from bpract.kb.vectors.base import VectorIndex
from bpract.kb.vectors.bitscan import BitScan
from bpract.store import dialect

__all__ = ["SHORTLIST", "SignBitIndex", "knn", "quantize", "sign_bits", "vectors_of"]

#: Candidates the bit scan hands to the exact re-scoring (see docs/performance.md).
SHORTLIST = 400
# The int8 vectors of the shortlisted chunks, all bound as one parameter.
_SHORTLISTED = (
    "SELECT chunk_id, embedding FROM kb_vectors"  # noqa: S608 - the dialect's fixed sub-select
    f" WHERE chunk_id IN ({dialect.id_list()}) AND site_id = ?"
)


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
        _SHORTLISTED, (dialect.id_list_value(near), site_id)
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


class SignBitIndex(VectorIndex):
    """``kb_vectors`` rows (sign bits and int8 components), each site's bits cached here."""

    def __init__(self) -> None:
        self._scan = BitScan()

    def store(
        self, conn: apsw.Connection, rows: Sequence[tuple[int, int]], vectors: Vectors
    ) -> None:
        for (chunk_id, site_id), vec in zip(rows, quantize(vectors), strict=True):
            conn.execute(
                "INSERT INTO kb_vectors (chunk_id, site_id, bits, embedding) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (chunk_id) DO UPDATE SET site_id = excluded.site_id,"
                " bits = excluded.bits, embedding = excluded.embedding",
                (chunk_id, site_id, sign_bits(vec), vec.tobytes()),
            )

    def clear(self, conn: apsw.Connection) -> None:
        conn.execute("DELETE FROM kb_vectors")

    def nearest(
        self, conn: apsw.Connection, site_id: int, vector: Vectors, k: int, *, shortlist: int
    ) -> list[tuple[int, float]]:
        return knn(conn, site_id, vector, k, scan=self._scan, shortlist=shortlist)

    def vectors_of(
        self, conn: apsw.Connection, site_id: int, ids: Sequence[int]
    ) -> dict[int, Vectors]:
        return vectors_of(conn, site_id, ids)
