"""The demo's SQLite file: one connection, one writer at a time, schema and seed on open."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from demo_site.seed import seed

__all__ = ["Store"]

_SCHEMA = Path(__file__).with_name("schema.sql")


class Store:
    """Demo state; every read or write goes through :meth:`transaction`."""

    def __init__(self, path: Path, today: Callable[[], dt.date] = dt.date.today) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.today = today
        self._lock = threading.Lock()
        # Handlers run in a thread pool; the lock serialises them on this one connection.
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._conn.row_factory = sqlite3.Row
        self._conn.execute("PRAGMA foreign_keys = ON")
        # executescript commits on its own, so the schema goes in before any transaction.
        self._conn.executescript(_SCHEMA.read_text(encoding="utf-8"))
        with self.transaction() as conn:
            if conn.execute("SELECT count(*) FROM accounts").fetchone()[0] == 0:
                seed(conn, today())

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Hold the connection inside ``BEGIN IMMEDIATE`` … ``COMMIT`` (rolled back on error)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._conn.close()
