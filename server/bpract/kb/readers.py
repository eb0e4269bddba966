"""Read-only connections for searches, each on its own thread, so BM25 and KNN run at once."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import apsw

from bpract.store import connect

__all__ = ["Readers"]

T = TypeVar("T")

#: Memory-map the file (reads skip a copy into SQLite's cache) and keep a larger cache.
_PRAGMAS = (
    "PRAGMA query_only = ON",
    "PRAGMA mmap_size = 1073741824",
    "PRAGMA cache_size = -32768",
)


class Readers:
    """``size`` connections to ``path`` that only read; ``await readers.run(fn)`` like a Database.

    WAL lets them read while the database thread writes; each read sees the
    last committed transaction.  SQLite releases the GIL while it works, so
    two searches (or the two halves of one) use two cores.
    """

    def __init__(self, path: Path, size: int = 2) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="bpract-kb-read")
        self._local = threading.local()
        self._opened: list[apsw.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> apsw.Connection:
        conn: apsw.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            for pragma in _PRAGMAS:
                conn.execute(pragma)
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    async def run(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn(conn)`` on a reader thread and return its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._conn()))

    def close(self, *, wait: bool = True) -> None:
        """Stop the threads and close the connections.

        ``wait=False`` is for a finalizer, which may run on one of these threads
        (the last reference to the owner can die there) and so cannot join it.
        """
        self._executor.shutdown(wait=wait)
        with self._lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()
