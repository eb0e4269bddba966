"""Group commit: frames of every connection written together, acknowledged after commit.

Connections hand their frames to one writer.  While a transaction runs on the
database thread, new frames gather; the next transaction takes them all (up to
``max_batch``).  Under load a commit carries hundreds of frames from many
connections; when idle a frame is written at once.

A row the database refuses (a constraint, a number too big for its column)
fails no one else's frames: the batch is written again one submission per
savepoint, the failing ones are refused with :class:`RowRefused` and the rest
commit and resolve as usual.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from functools import partial
from typing import NamedTuple

import apsw

from bpract.store import Database, dialect, transaction

__all__ = ["WAL_AUTOCHECKPOINT_PAGES", "FrameRow", "FrameWriter", "RowRefused", "SignalRow"]


class RowRefused(Exception):
    """The database refused one submission's rows; the writer and other submissions go on."""


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


_INSERT_FRAME = (
    "INSERT INTO frames (site_id, visitor, stream, seq, t, at_ms, received_ms, body)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (site_id, visitor, stream, seq) DO NOTHING"
    " RETURNING site_id, visitor, stream, seq"
)
_INSERT_SIGNAL = (
    "INSERT INTO signals (site_id, visitor, session, name, at_ms, data) VALUES (?, ?, ?, ?, ?, ?)"
)
# A batch's session row spans its earliest to latest signal, widening the stored one.
_UPSERT_SESSION = (
    "INSERT INTO sessions (site_id, id, visitor, started_ms, last_ms) VALUES (?, ?, ?, ?, ?)"  # noqa: S608
    " ON CONFLICT (site_id, id) DO UPDATE"
    f" SET last_ms = {dialect.greatest('sessions.last_ms', 'excluded.last_ms')},"
    f" started_ms = {dialect.least('sessions.started_ms', 'excluded.started_ms')}"
)

#: WAL pages between automatic checkpoints (SQLite's default: 1,000).
WAL_AUTOCHECKPOINT_PAGES = 10_000

_Key = tuple[int, str, str, int]


def _new_frames(conn: apsw.Connection, frames: list[FrameRow]) -> set[_Key]:
    """Insert ``frames`` (duplicates ignored); the keys actually inserted."""
    if not frames:
        return set()
    # The rows are tuples in column order: bound as they are, without a copy.
    return {tuple(r) for r in conn.cursor().executemany(_INSERT_FRAME, frames)}


def _classify(batch: list[_Item], inserted: set[_Key]) -> list[bool]:
    """Which items are new: a key inserted in this batch counts for its first item only."""
    results = []
    for item in batch:
        f = item.frame
        if f is None:
            results.append(True)
            continue
        key = (f.site_id, f.visitor, f.stream, f.seq)
        results.append(key in inserted)
        inserted.discard(key)
    return results


def _write_signals(conn: apsw.Connection, signals: list[SignalRow]) -> None:
    if not signals:
        return
    conn.executemany(_INSERT_SIGNAL, signals)
    # One upsert per session and batch, spanning its earliest to latest signal.
    sessions: dict[tuple[int, str], tuple[str, int, int]] = {}
    for s in signals:
        if s.session is not None:
            visitor, first, last = sessions.get(
                (s.site_id, s.session), (s.visitor, s.at_ms, s.at_ms)
            )
            sessions[(s.site_id, s.session)] = (visitor, min(first, s.at_ms), max(last, s.at_ms))
    conn.executemany(
        _UPSERT_SESSION,
        [(site, session, v, first, last) for (site, session), (v, first, last) in sessions.items()],
    )


#: What one row can cause (rather than the database): a value its column cannot hold.
_ROW_ERRORS = (
    OverflowError, TypeError, ValueError,
    apsw.ConstraintError, apsw.MismatchError, apsw.TooBigError,
)  # fmt: skip

_Result = bool | RowRefused


def _write_items(conn: apsw.Connection, batch: list[_Item]) -> list[bool]:
    inserted = _new_frames(conn, [i.frame for i in batch if i.frame is not None])
    results = _classify(batch, inserted)
    _write_signals(
        conn,
        [i.signal for i, new in zip(batch, results, strict=True) if new and i.signal is not None],
    )
    return results


def _write_each(conn: apsw.Connection, batch: list[_Item]) -> list[_Result]:
    """The batch in one transaction, each submission in its own savepoint."""
    results: list[_Result] = []
    with transaction(conn):
        for item in batch:
            try:
                with transaction(conn):  # nested: a savepoint
                    results.extend(_write_items(conn, [item]))
            except _ROW_ERRORS as exc:
                results.append(RowRefused(f"{type(exc).__name__}: {exc}"))
    return results


def _write_batch(conn: apsw.Connection, batch: list[_Item]) -> list[_Result]:
    try:
        with transaction(conn):
            return list(_write_items(conn, batch))
    except _ROW_ERRORS:
        return _write_each(conn, batch)  # rolled back: find the rows at fault


def _tune(conn: apsw.Connection) -> None:
    """Settings of the database connection for batched writes.

    Each batch writes its frames on random pages of ``frames`` and
    ``signals_visitor``; a larger WAL before each checkpoint copies a page that
    several batches wrote back to the database once (about 17 KB written per
    stored signal becomes 12–13 KB under the server bench).  Durability is unchanged: a batch is
    acknowledged after its commit is in the WAL.
    """
    conn.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")


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

        The future resolves after commit: True if the frame was new, False for a duplicate;
        it raises :class:`RowRefused` if the database refused these rows (nothing was stored),
        and any other error if the whole batch failed.
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
            for item, result in zip(batch, results, strict=True):
                if item.future.done():
                    continue
                if isinstance(result, RowRefused):
                    item.future.set_exception(result)
                else:
                    item.future.set_result(result)
