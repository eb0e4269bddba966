"""Group commit: many frames in one transaction, duplicates reported, signals stored once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bpract.features import MIGRATIONS
from bpract.sites import create_site
from bpract.store import Database, migrate
from bpract.visitors.writer import (
    WAL_AUTOCHECKPOINT_PAGES,
    FrameRow,
    FrameWriter,
    RowRefused,
    SignalRow,
)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(tmp_path / "w.db")
    database.run_sync(lambda c: migrate(c, MIGRATIONS))

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
        assert list(again) == [False, True]
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


async def test_a_refused_row_fails_only_its_own_submission(db: Database) -> None:
    writer = FrameWriter(db)
    writer.start()
    try:
        bad = FrameRow(99, "v", "s", 1, "signal", 1, 1, "{}")  # no site 99: foreign key
        with pytest.raises(RowRefused, match="FOREIGN KEY"):
            await writer.store(bad)
        assert await writer.store(frame(1)) is True  # the writer keeps going
    finally:
        await writer.stop()


async def test_a_row_out_of_range_shares_a_batch_and_the_others_are_stored_once(
    db: Database,
) -> None:
    """A fallback engine's signal at 1e20 ms once failed every frame of its batch."""
    writer = FrameWriter(db)
    writer.start()
    try:
        first = await asyncio.gather(writer.store(frame(1, "v_a")), writer.store(frame(1, "v_b")))
        assert list(first) == [True, True]
        # Queued together before the writer runs again: one batch.
        good = [writer.store(frame(n, f"v_{n % 3}"), signal(n, f"v_{n % 3}")) for n in range(2, 40)]
        hostile = writer.store(None, SignalRow(1, "v_x", "n_x", "dwell", 10**20, "{}"))
        also_bad = writer.store(FrameRow(1, "v_y", "s_1", 1, "event", 1, 1, "{}"),
                                SignalRow(1, "v_y", None, "dwell", 2**63, "{}"))  # fmt: skip
        dup = writer.store(frame(1, "v_a"))
        again = writer.store(frame(2, "v_2"), signal(2, "v_2"))  # a resend in the same batch
        results = await asyncio.gather(*good, hostile, also_bad, dup, again, return_exceptions=True)
    finally:
        await writer.stop()
    *stored, refused, refused_too, duplicate, resend = results
    assert stored == [True] * len(good)
    assert isinstance(refused, RowRefused) and isinstance(refused_too, RowRefused)
    assert "int too big" in str(refused)
    assert (duplicate, resend) == (False, False)
    counts = await db.run(
        lambda c: c.execute(
            "SELECT (SELECT count(*) FROM frames), (SELECT count(*) FROM signals),"
            " (SELECT count(*) FROM frames WHERE visitor = 'v_y')"
        ).fetchone()
    )
    assert counts == (2 + len(good), len(good), 0)  # the refused frame's row went with its signal


async def test_a_key_twice_in_one_batch_is_new_once_and_bodies_are_stored_verbatim(
    db: Database,
) -> None:
    body = '{"t":"signal","name":"caf\\u00e9 \u2028 \\"q\\" 😀","data":{"k":"\\\\"}}'
    writer = FrameWriter(db)
    writer.start()
    try:
        first = writer.store(FrameRow(1, "v_1", "s_1", 7, "signal", 1, 2, body), signal(7))
        second = writer.store(FrameRow(1, "v_1", "s_1", 7, "signal", 1, 2, "{}"), signal(7))
        other_stream = writer.store(FrameRow(1, "v_1", "s_2", 7, "signal", 1, 2, "{}"))
        assert list(await asyncio.gather(first, second, other_stream)) == [True, False, True]
    finally:
        await writer.stop()
    stored = await db.run(
        lambda c: c.execute(
            "SELECT stream, seq, t, at_ms, received_ms, body FROM frames ORDER BY stream"
        ).fetchall()
    )
    assert stored == [("s_1", 7, "signal", 1, 2, body), ("s_2", 7, "signal", 1, 2, "{}")]
    signals = await db.run(
        lambda c: c.execute("SELECT visitor, session, name, at_ms, data FROM signals").fetchall()
    )
    assert signals == [("v_1", "n_1", "dwell", 7, "{}")]


async def test_sessions_span_their_signals_across_batches(db: Database) -> None:
    writer = FrameWriter(db)
    writer.start()
    try:
        await asyncio.gather(writer.store(None, signal(50)), writer.store(None, signal(40)))
        await writer.store(None, signal(90))
        await writer.store(None, SignalRow(1, "v_1", None, "dwell", 10, "{}"))
    finally:
        await writer.stop()
    sessions = await db.run(
        lambda c: c.execute("SELECT id, visitor, started_ms, last_ms FROM sessions").fetchall()
    )
    assert sessions == [("n_1", "v_1", 40, 90)]


async def test_the_writer_tunes_its_connection(db: Database) -> None:
    writer = FrameWriter(db)
    writer.start()
    try:
        await writer.store(frame(1))
    finally:
        await writer.stop()
    pages = await db.run(lambda c: c.execute("PRAGMA wal_autocheckpoint").fetchone())
    assert pages == (WAL_AUTOCHECKPOINT_PAGES,)
