"""Group commit: frames of every connection written together, acknowledged after commit.

Connections hand their frames to one writer.  While a transaction runs on the
database thread, new frames gather; the next transaction takes them all (up to
``max_batch``).  Under load a commit carries hundreds of frames from many
connections; when idle a frame is written at once.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

import apsw
import msgspec

from bpract.store import Database

__all__ = ["WAL_AUTOCHECKPOINT_PAGES", "FrameRow", "FrameWriter", "SignalRow"]


class FrameRow(NamedTuple):
    """One client frame with a seq, for the ``frames`` inbox."""

    site_id: int
    visitor: str
    stream: str
    seq: int
    t: str
    at_ms: int
    received_ms: int
    body: str


class SignalRow(NamedTuple):
    """One signal, for the ``signals`` table."""

    site_id: int
    visitor: str
    session: str | None
    name: str
    at_ms: int
    data: str


@dataclass(slots=True)
class _Item:
    frame: FrameRow | None
    signal: SignalRow | None
    future: asyncio.Future[bool] = field(repr=False)


# Each statement takes the whole batch as one JSON array (``json_each``): one
# statement step per batch instead of one per row, and so one release of the
# GIL instead of several per frame while the event loop waits for it.
_STORED = (
    "SELECT j.key FROM json_each(?) AS j WHERE EXISTS (SELECT 1 FROM frames f"
    " WHERE f.site_id = j.value ->> 0 AND f.visitor = j.value ->> 1"
    " AND f.stream = j.value ->> 2 AND f.seq = j.value ->> 3)"
)
_INSERT_FRAMES = (
    "INSERT INTO frames (site_id, visitor, stream, seq, t, at_ms, received_ms, body)"
    " SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5,"
    " value ->> 6, value ->> 7 FROM json_each(?)"
)
_INSERT_SIGNALS = (
    "INSERT INTO signals (site_id, visitor, session, name, at_ms, data)"
    " SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5"
    " FROM json_each(?)"
)
_UPSERT_SESSIONS = (
    "INSERT INTO sessions (site_id, id, visitor, started_ms, last_ms)"
    " SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 FROM json_each(?)"
    " WHERE true ON CONFLICT (site_id, id) DO UPDATE SET last_ms = max(last_ms, excluded.last_ms),"
    " started_ms = min(started_ms, excluded.started_ms)"
)

#: WAL pages between automatic checkpoints (SQLite's default: 1,000).
WAL_AUTOCHECKPOINT_PAGES = 10_000

_Key = tuple[int, str, str, int]
_encoder = msgspec.json.Encoder()


def _json(rows: object) -> str:
    # Text, not bytes: SQLite reads a BLOB argument of json_each as binary JSONB.
    return _encoder.encode(rows).decode()


def _classify(conn: apsw.Connection, batch: list[_Item]) -> list[bool]:
    """Which items are new: not stored yet, and the first of the batch with their key."""
    results = [True] * len(batch)
    candidates: dict[_Key, int] = {}
    for n, item in enumerate(batch):
        f = item.frame
        if f is not None:
            key = (f.site_id, f.visitor, f.stream, f.seq)
            if key in candidates:
                results[n] = False
            else:
                candidates[key] = n
    if candidates:
        indexes = list(candidates.values())
        keys = _json(list(candidates))
        for (position,) in conn.execute(_STORED, (keys,)):
            results[indexes[position]] = False
    return results


def _write_frames(conn: apsw.Connection, frames: list[FrameRow]) -> None:
    if frames:
        conn.execute(_INSERT_FRAMES, (_json(frames),))


def _write_signals(conn: apsw.Connection, signals: list[SignalRow]) -> None:
    if not signals:
        return
    conn.execute(_INSERT_SIGNALS, (_json(signals),))
    # One upsert per session and batch, spanning its earliest to latest signal.
    sessions: dict[tuple[int, str], tuple[str, int, int]] = {}
    for s in signals:
        if s.session is not None:
            visitor, first, last = sessions.get(
                (s.site_id, s.session), (s.visitor, s.at_ms, s.at_ms)
            )
            sessions[(s.site_id, s.session)] = (visitor, min(first, s.at_ms), max(last, s.at_ms))
    if sessions:
        rows = [(site, session, *span) for (site, session), span in sessions.items()]
        conn.execute(_UPSERT_SESSIONS, (_json(rows),))


def _tune(conn: apsw.Connection) -> None:
    """Settings of the database connection for batched writes.

    Each batch writes its frames on random pages of ``frames`` and
    ``signals_visitor``; a larger WAL before each checkpoint copies a page that
    several batches wrote back to the database once.  Multi-row statements keep
    their statement journal in memory instead of a temporary file.  Neither
    changes durability: a batch is acknowledged after its commit is in the WAL.
    """
    conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    conn.execute("PRAGMA temp_store=MEMORY")


def _write_batch(conn: apsw.Connection, batch: list[_Item]) -> list[bool]:
    with conn:
        results = _classify(conn, batch)
        new = [item for item, fresh in zip(batch, results, strict=True) if fresh]
        _write_frames(conn, [i.frame for i in new if i.frame is not None])
        _write_signals(conn, [i.signal for i in new if i.signal is not None])
    return results


class FrameWriter:
    """Writes frames and signals in batches; ``await store(...)`` says whether it was new."""

    def __init__(self, db: Database, max_batch: int = 1000) -> None:
        self._db = db
        self._max_batch = max_batch
        self._queue: list[_Item] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="bpract-frame-writer")

    async def stop(self) -> None:
        """Stop writing; frames still queued are not stored (their clients will resend)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        queued, self._queue = self._queue, []
        for item in queued:
            if not item.future.done():
                item.future.cancel()

    def store(
        self, frame: FrameRow | None, signal: SignalRow | None = None
    ) -> asyncio.Future[bool]:
        """Queue a frame (inserted once) and/or a signal (inserted if the frame is new).

        The future resolves after commit: True if the frame was new, False for a duplicate.
        """
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._queue.append(_Item(frame, signal, future))
        self._wake.set()
        return future

    async def _run(self) -> None:
        await self._db.run(_tune)
        while True:
            await self._wake.wait()
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
            if not self._queue:
                self._wake.clear()
            try:
                results = await self._db.run(partial(_write_batch, batch=batch))
            except Exception as exc:
                for item in batch:
                    if not item.future.done():
                        item.future.set_exception(exc)
                continue
            for item, new in zip(batch, results, strict=True):
                if not item.future.done():
                    item.future.set_result(new)
