"""The quality feature inside the server: the grounding scorer runs for the app's lifetime."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from bpract.quality.grounding import Grounder, Grounding, OfflineGrounder
from bpract.quality.judge import JudgeGrounder
from bpract.quality.scorer import GroundingScorer
from bpract.quality.settings import QualitySettings
from bpract.settings import read_section

if TYPE_CHECKING:
    from bpract.chat import ChatService
    from bpract.kb import KnowledgeBase
    from bpract.llm import Gateway
    from bpract.store import Database

__all__ = ["LazyGrounder", "grounder_for", "grounding_scorer"]

log = logging.getLogger("bpract.quality")


class LazyGrounder:
    """Builds its grounder on first use, so the embedder loads when an answer needs it."""

    def __init__(self, build: Callable[[], Grounder]) -> None:
        self._build = build
        self._grounder: Grounder | None = None

    async def score(
        self, answer: str, passages: Sequence[dict[str, Any]], *, site_id: int = 0
    ) -> Grounding:
        if self._grounder is None:
            self._grounder = await asyncio.to_thread(self._build)
        return await self._grounder.score(answer, passages, site_id=site_id)


def grounder_for(mode: str, kb: KnowledgeBase | None, gateway: Gateway | None) -> Grounder:
    """The grounder ``mode`` names (``auto`` already resolved); the knowledge base's embedder
    (already loaded for retrieval) scores meaning."""
    if mode == "overlap":
        return OfflineGrounder()
    offline = OfflineGrounder(kb.embedder if kb is not None else None)
    if mode == "judge" and gateway is not None:
        return JudgeGrounder(gateway, offline)
    return offline


def _settings(env: Mapping[str, str]) -> tuple[str, float]:
    """The grounding mode and interval ``env`` sets (what ``bpract serve`` would run)."""
    settings = read_section(QualitySettings, env)
    return settings.mode(env.get("BPRACT_LLM_POLICY_DIR", "").strip()), settings.grounding_interval


@contextlib.asynccontextmanager
async def grounding_scorer(
    db: Database,
    chat: ChatService,
    kb: KnowledgeBase,
    gateway: Gateway,
    *,
    mode: str,
    interval_s: float,
) -> AsyncIterator[GroundingScorer | None]:
    """Score every stored answer while the app runs; woken by each new answer."""
    if mode == "off":
        yield None
        return
    scorer = GroundingScorer(
        db, LazyGrounder(lambda: grounder_for(mode, kb, gateway)), interval_s=interval_s
    )

    async def stored(_answer: object) -> None:
        scorer.wake()

    chat.add_listener(stored)
    task = asyncio.create_task(scorer.run(), name="grounding-scorer")
    try:
        yield scorer
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
