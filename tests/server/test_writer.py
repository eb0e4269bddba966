"""Group commit: many frames in one transaction, duplicates reported, signals stored once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bpract.sites import create_site
from bpract.store import Database, migrate
from bpract.visitors.writer import FrameRow, FrameWriter, SignalRow


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "w.db")
    database.run_sync(migrate)

    def site(conn: object) -> None:
        with conn:  # type: ignore[attr-defined]
            create_site(conn, name="w", origins=["https://w.example"])  # type: ignore[arg-type]

    database.run_sync(site)
    yield database
    database.close()


def frame(seq: int, visitor: str = "v_1") -> FrameRow:
    return FrameRow(1, visitor, "s_1", seq, "signal", seq, seq, "{}")


def signal(seq: int, visitor: str = "v_1") -> SignalRow:
    return SignalRow(1, visitor, "n_1", "dwell", seq, "{}")


async def test_concurrent_frames_share_transactions_and_duplicates_are_flagged(
    db: Database,
) -> None:
    writer = FrameWriter(db)
    writer.start()
    try:
        futures = [
            writer.store(frame(n, f"v_{n % 50}"), signal(n, f"v_{n % 50}")) for n in range(1, 1001)
        ]
        assert all(await asyncio.gather(*futures))
        again = await asyncio.gather(
            writer.store(frame(1, "v_1"), signal(1, "v_1")), writer.store(frame(1001, "v_1"))
        )
        assert again == [False, True]
        engine_signal = await writer.store(None, signal(5000))
        assert engine_signal is True
    finally:
        await writer.stop()
    counts = await db.run(
        lambda c: c.execute(
            "SELECT (SELECT count(*) FROM frames), (SELECT count(*) FROM signals)"
        ).fetchone()
    )
    assert counts == (1001, 1001)


async def test_a_failed_batch_fails_its_futures(db: Database) -> None:
    writer = FrameWriter(db)
    writer.start()
    try:
        bad = FrameRow(99, "v", "s", 1, "signal", 1, 1, "{}")  # no site 99: foreign key
        with pytest.raises(Exception, match="FOREIGN KEY"):
            await writer.store(bad)
        assert await writer.store(frame(1)) is True  # the writer keeps going
    finally:
        await writer.stop()
