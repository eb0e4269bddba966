"""SQLite through apsw: extension-capable connections and a single database thread.

The stock ``sqlite3`` module of many Pythons (this project's CI machine included)
is built without ``enable_load_extension`` and so cannot load sqlite-vec.  apsw
ships its own SQLite with FTS5 and loads extensions everywhere, so every
connection is opened here.

All statements run on one dedicated thread: SQLite serialises writers anyway,
and one thread keeps transactions simple and the event loop free.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import apsw
import sqlite_vec

from bpract.store.base import Database, ReaderPool

__all__ = [
    "ExtensionUnavailableError",
    "SQLiteDatabase",
    "SQLiteReaders",
    "connect",
    "insert_id",
    "transaction",
]

T = TypeVar("T")


class ExtensionUnavailableError(RuntimeError):
    """sqlite-vec could not be loaded into SQLite."""


def connect(path: str | Path) -> apsw.Connection:
    """Open ``path`` with sqlite-vec loaded, WAL journaling and foreign keys on."""
    conn = apsw.Connection(str(path))
    try:
        conn.enable_load_extension(True)
        conn.load_extension(sqlite_vec.loadable_path())
        conn.enable_load_extension(False)
    except apsw.Error as exc:  # pragma: no cover - depends on the platform build
        raise ExtensionUnavailableError(
            f"could not load sqlite-vec into SQLite {apsw.sqlite_lib_version()}: {exc}. "
            "Reinstall with `pip install --force-reinstall apsw sqlite-vec`."
        ) from exc
    conn.set_busy_timeout(5_000)
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    return conn


@contextlib.contextmanager
def transaction(conn: apsw.Connection, *, lock: bool = False) -> Iterator[apsw.Connection]:
    """One transaction on ``conn``: committed when the block ends, rolled back on error.

    ``lock=True`` is ``BEGIN IMMEDIATE``: the write lock is taken before the block
    reads, so two processes cannot both read a count and both pass it.  Without it
    the block is a savepoint (apsw's ``with conn``), which nests.
    """
    if not lock:
        with conn:
            yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def insert_id(conn: apsw.Connection, sql: str, params: tuple[object, ...]) -> int:
    """Run ``INSERT … RETURNING id`` (the portable form of ``last_insert_rowid``); the id."""
    rows = conn.execute(sql, params).fetchall()
    value = rows[0][0]
    if not isinstance(value, int):
        raise TypeError(f"RETURNING gave {value!r}, not an integer id")
    return value


class SQLiteDatabase(Database[apsw.Connection]):
    """An SQLite file served by one thread; ``await db.run(fn)`` calls ``fn(conn)`` there."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path) if str(path) != ":memory:" else path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bpract-db")
        self._local = threading.local()

    def _conn(self) -> apsw.Connection:
        conn: apsw.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            self._local.conn = conn
        return conn

    async def run(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Run ``fn(conn)`` on the database thread and return its result."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._conn()))

    async def transaction(self, fn: Callable[[apsw.Connection], T], *, lock: bool = False) -> T:
        """Like :meth:`run`, inside one :func:`transaction` (``lock=True``: write lock first)."""

        def in_tx(conn: apsw.Connection) -> T:
            with transaction(conn, lock=lock):
                result = fn(conn)
            return result

        return await self.run(in_tx)

    def run_sync(self, fn: Callable[[apsw.Connection], T]) -> T:
        """Blocking variant of :meth:`run` for the CLI and start-up."""
        return self._executor.submit(lambda: fn(self._conn())).result()

    @contextlib.contextmanager
    def session(self) -> Iterator[apsw.Connection]:
        """A private connection for one-off CLI work on the calling thread."""
        conn = connect(self.path)
        try:
            yield conn
        finally:
            conn.close()

    def readers(self, size: int = 2) -> SQLiteReaders | None:
        """Read-only connections to the file; None for ``:memory:``, which they cannot share."""
        return SQLiteReaders(self.path, size) if isinstance(self.path, Path) else None

    async def ping(self) -> bool:
        return await self.run(lambda conn: conn.execute("SELECT 1").fetchone() == (1,))

    def close(self) -> None:
        def _close(_: apsw.Connection) -> None:
            conn = getattr(self._local, "conn", None)
            if conn is not None:
                conn.close()
                self._local.conn = None

        with contextlib.suppress(RuntimeError):
            self._executor.submit(lambda: _close(self._conn())).result()
        self._executor.shutdown(wait=True)


#: Memory-map the file (reads skip a copy into SQLite's cache) and keep a larger cache.
_READER_PRAGMAS = (
    "PRAGMA query_only = ON",
    "PRAGMA mmap_size = 1073741824",
    "PRAGMA cache_size = -32768",
)


class SQLiteReaders(ReaderPool[apsw.Connection]):
    """``size`` connections to ``path`` that only read; ``await readers.run(fn)`` like a database.

    WAL lets them read while the database thread writes; each read sees the
    last committed transaction.  SQLite releases the GIL while it works, so
    two reads (say the two halves of one search) use two cores.
    """

    def __init__(self, path: Path, size: int = 2) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="bpract-read")
        self._local = threading.local()
        self._opened: list[apsw.Connection] = []
        self._lock = threading.Lock()

    def _conn(self) -> apsw.Connection:
        conn: apsw.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = connect(self.path)
            for pragma in _READER_PRAGMAS:
                conn.execute(pragma)
            self._local.conn = conn
            with self._lock:
                self._opened.append(conn)
        return conn

    async def run(self, fn: Callable[[apsw.Connection], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self._conn()))

    def close(self, *, wait: bool = True) -> None:
        # ``wait=False`` is for a finalizer, which may run on one of these threads
        # (the last reference to the owner can die there) and so cannot join it.
        self._executor.shutdown(wait=wait)
        with self._lock:
            for conn in self._opened:
                conn.close()
            self._opened.clear()
