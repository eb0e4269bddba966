"""In-memory Hamming scan over each site's sign bits: the coarse half of the vector search."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import apsw
import numpy as np
import numpy.typing as npt

from bpract.store import transaction

__all__ = ["BitScan"]


@dataclass(frozen=True, slots=True)
class _Site:
    epoch: int
    ids: npt.NDArray[np.int64]
    bits: npt.NDArray[np.uint8]  # one row of packed sign bits per chunk


class BitScan:
    """Each site's packed sign bits, loaded from ``kb_vectors`` once and kept while current.

    A site's row in ``kb_vector_epochs`` moves with every change to its vectors
    (triggers), so a reader reloads only after an ingest touched that site.
    At 384 dimensions the bits take 48 bytes a chunk (4.8 MB for 100,000).
    """

    def __init__(self) -> None:
        self._sites: dict[int, _Site] = {}
        self._lock = threading.Lock()

    def nearest(self, conn: apsw.Connection, site_id: int, bits: bytes, n: int) -> list[int]:
        """Ids of (about) the ``n`` chunks of ``site_id`` with the fewest bits unlike ``bits``."""
        site = self._current(conn, site_id)
        if site is None or not len(site.ids):
            return []
        query = np.frombuffer(bits, dtype=np.uint8)
        distances = np.bitwise_count(np.bitwise_xor(site.bits, query)).sum(axis=1, dtype=np.int32)
        if n < len(distances):
            picked = np.argpartition(distances, n)[:n]
        else:
            picked = np.arange(len(distances))
        return [int(i) for i in site.ids[picked]]

    def _current(self, conn: apsw.Connection, site_id: int) -> _Site | None:
        with transaction(conn):  # one snapshot: the epoch read matches the rows loaded
            row = conn.execute(
                "SELECT epoch FROM kb_vector_epochs WHERE site_id = ?", (site_id,)
            ).fetchone()
            if row is None:
                return None
            epoch = int(row[0])
            site = self._sites.get(site_id)
            if site is None or site.epoch != epoch:
                site = self._load(conn, site_id, epoch)
        return site

    def _load(self, conn: apsw.Connection, site_id: int, epoch: int) -> _Site:
        rows: list[tuple[int, bytes]] = conn.execute(  # type: ignore[assignment]
            "SELECT chunk_id, bits FROM kb_vectors WHERE site_id = ? ORDER BY chunk_id", (site_id,)
        ).fetchall()
        ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
        packed = b"".join(r[1] for r in rows)
        width = len(packed) // len(rows) if rows else 0
        bits = np.frombuffer(packed, dtype=np.uint8).reshape(len(rows), width)
        site = _Site(epoch, ids, bits)
        with self._lock:
            self._sites[site_id] = site
        return site
