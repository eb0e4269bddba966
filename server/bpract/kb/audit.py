"""What to write next: stale documents, and unanswered questions grouped by meaning."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

import numpy as np

from bpract.clock import now_ms
from bpract.kb import index
from bpract.kb.embed.base import Embedder
from bpract.store import Database

__all__ = [
    "QuestionGroup",
    "StaleDocument",
    "record_unanswered",
    "stale_documents",
    "unanswered_groups",
]


@dataclass(frozen=True, slots=True)
class StaleDocument:
    doc_id: int
    title: str
    source: str
    updated_at: str | None
    """None: the source gave no date (listed too, since nobody can tell it is current)."""


@dataclass(frozen=True, slots=True)
class QuestionGroup:
    """Similar unanswered questions; ``question`` is the one nearest the group's centre."""

    question: str
    count: int
    examples: tuple[str, ...]
    last_asked_ms: int
    best_score: float | None
    """Highest retrieval confidence any of them got (how close the KB came)."""


async def record_unanswered(
    db: Database, site_id: int, question: str, best_score: float | None, asked_ms: int | None = None
) -> int:
    """Log a question the knowledge base could not answer; returns its id."""
    at = asked_ms if asked_ms is not None else now_ms()
    text = " ".join(question.split())[:2000]

    return await db.run(lambda conn: index.insert_unanswered(conn, site_id, text, at, best_score))


async def stale_documents(
    db: Database, site_id: int, days: int, today: dt.date | None = None
) -> list[StaleDocument]:
    """Documents last updated more than ``days`` days ago (or undated), oldest first."""
    cutoff = ((today or dt.datetime.now(dt.UTC).date()) - dt.timedelta(days=days)).isoformat()

    rows = await db.run(lambda conn: index.stale_rows(conn, site_id, cutoff))
    return [StaleDocument(*row) for row in rows]


def _cluster(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """Greedy single pass: join the nearest group centre at cosine >= threshold, else start one."""
    groups: list[list[int]] = []
    centres: list[np.ndarray] = []
    for i, v in enumerate(vectors):
        if centres:
            sims = np.array(centres) @ v
            best = int(np.argmax(sims))
            if sims[best] >= threshold:
                groups[best].append(i)
                c = vectors[groups[best]].mean(axis=0)
                centres[best] = c / max(float(np.linalg.norm(c)), 1e-9)
                continue
        groups.append([i])
        centres.append(v)
    return groups


async def unanswered_groups(
    db: Database,
    embedder: Embedder,
    site_id: int,
    *,
    since_ms: int = 0,
    threshold: float = 0.6,
    limit: int = 5000,
) -> list[QuestionGroup]:
    """The site's unanswered questions grouped by meaning, biggest group first."""

    rows = await db.run(lambda conn: index.recent_unanswered(conn, site_id, since_ms, limit))
    if not rows:
        return []
    vectors = await asyncio.to_thread(embedder.embed, [q for q, _, _ in rows])
    out = []
    for members in _cluster(vectors, threshold):
        centre = vectors[members].mean(axis=0)
        rep = members[int(np.argmax(vectors[members] @ centre))]
        scores = [s for s in (rows[i][2] for i in members) if s is not None]
        distinct = list(dict.fromkeys(rows[i][0] for i in members))
        out.append(
            QuestionGroup(
                question=rows[rep][0],
                count=len(members),
                examples=tuple(distinct[:5]),
                last_asked_ms=max(rows[i][1] for i in members),
                best_score=max(scores) if scores else None,
            )
        )
    return sorted(out, key=lambda g: (-g.count, -g.last_asked_ms))
