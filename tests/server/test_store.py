"""The store: one transaction helper (with the write lock up front) and the reader pool."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import apsw
import pytest

from bpract.features import MIGRATIONS
from bpract.store import Database, connect, migrate, transaction


def test_a_locked_transaction_commits_or_rolls_back(tmp_path: Path) -> None:
    conn = connect(tmp_path / "t.db")
    conn.execute("CREATE TABLE n (v INTEGER)")
    with transaction(conn, lock=True):
        assert conn.in_transaction  # BEGIN IMMEDIATE: the write lock is held before any read
        conn.execute("INSERT INTO n VALUES (1)")
    with pytest.raises(RuntimeError), transaction(conn, lock=True):
        conn.execute("INSERT INTO n VALUES (2)")
        raise RuntimeError
    with pytest.raises(RuntimeError), transaction(conn):
        conn.execute("INSERT INTO n VALUES (3)")
        raise RuntimeError
    assert conn.execute("SELECT v FROM n").fetchall() == [(1,)]
    conn.close()


def test_a_second_writer_waits_for_the_locked_one(tmp_path: Path) -> None:
    first, second = connect(tmp_path / "t.db"), connect(tmp_path / "t.db")
    second.set_busy_timeout(0)
    first.execute("CREATE TABLE n (v INTEGER)")
    with (
        transaction(first, lock=True),
        pytest.raises(apsw.BusyError),
        transaction(second, lock=True),
    ):
        pass
    first.close()
    second.close()


def _vec_version(conn: apsw.Connection) -> str:
    time.sleep(0.01)  # hold this thread, so the next read goes to the other
    row = conn.execute("SELECT vec_version()").fetchone()
    return "" if row is None else str(row[0])


async def test_readers_load_sqlite_vec_and_only_read(tmp_path: Path) -> None:
    db = Database(tmp_path / "r.db")
    db.run_sync(lambda c: migrate(c, MIGRATIONS))
    readers = db.readers(size=2)
    assert readers is not None
    try:
        # Run at once, so that both threads open their connection.
        versions = await asyncio.gather(*(readers.run(_vec_version) for _ in range(8)))
        assert all(v.startswith("v") for v in versions)
        assert len(readers._opened) == 2
        with pytest.raises(apsw.ReadOnlyError):
            await readers.run(lambda c: c.execute("DELETE FROM sites"))
        assert await db.ping()
    finally:
        readers.close()
        db.close()


def test_an_in_memory_database_has_no_reader_pool() -> None:
    db = Database(":memory:")
    try:
        assert db.readers() is None
    finally:
        db.close()
