"""The background scorer: grounds every stored answer that has no grounding yet."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import apsw
import msgspec

from bpract.chat.answers import set_grounding, ungraded_answers
from bpract.quality.grounding import Grounder, Grounding
from bpract.store import Database

__all__ = ["GroundingScorer", "Pending"]

log = logging.getLogger("bpract.quality")


@dataclass(frozen=True, slots=True)
class Pending:
    """An answer waiting for its grounding."""

    id: str
    site_id: int
    text: str
    passages: list[dict[str, Any]]


def _pending(conn: apsw.Connection, limit: int, skip: frozenset[str]) -> list[Pending]:
    rows = ungraded_answers(conn, limit + len(skip))
    out = []
    for mid, site_id, text, raw in rows:
        if mid in skip:
            continue
        try:
            passages = msgspec.json.decode(str(raw or "[]"), type=list[dict[str, Any]])
        except msgspec.DecodeError:
            passages = []
        out.append(Pending(str(mid), int(str(site_id)), str(text), passages))
    return out[:limit]


def _write(conn: apsw.Connection, item: Pending, g: Grounding) -> None:
    set_grounding(conn, item.site_id, item.id, g.score, g.method)


def _writer(item: Pending, g: Grounding) -> Callable[[apsw.Connection], None]:
    return lambda conn: _write(conn, item, g)


class GroundingScorer:
    """Every ``interval_s`` (or sooner after :meth:`wake`), scores up to ``batch`` answers."""

    def __init__(
        self, db: Database, grounder: Grounder, *, batch: int = 20, interval_s: float = 5.0
    ) -> None:
        self.db = db
        self.grounder = grounder
        self.batch = batch
        self.interval_s = interval_s
        self._wake = asyncio.Event()
        self._failed: set[str] = set()

    def wake(self) -> None:
        """Score soon: a new answer was stored."""
        self._wake.set()

    async def score_pending(self) -> int:
        """Score one batch of answers without a grounding; returns how many were written."""
        skip = frozenset(self._failed)
        try:
            batch = await self.db.run(lambda c: _pending(c, self.batch, skip))
        except apsw.SQLError as exc:  # the chat tables are not there (an older database)
            log.warning("grounding: cannot read answers (%s)", exc)
            return 0
        done = 0
        for item in batch:
            try:
                g = await self.grounder.score(item.text, item.passages, site_id=item.site_id)
            except Exception:  # one bad answer must not stop the rest; skipped until restart
                log.exception("grounding: scoring %s failed", item.id)
                self._failed.add(item.id)
                continue
            await self.db.transaction(_writer(item, g))
            done += 1
        return done

    async def run(self) -> None:
        """Score until cancelled; a full batch is followed at once by the next."""
        while True:
            written = await self.score_pending()
            if written >= self.batch:
                continue
            self._wake.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel
            # that arrives together with a wake-up, and shutdown would wait forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.interval_s):
                    await self._wake.wait()
