"""The quality feature inside the server: the grounding scorer runs for the app's lifetime.

``BPRACT_GROUNDING``: ``judge`` (the ``judge`` task of the site's policy when
it names a real model, else offline), ``auto`` (default: ``judge`` when a policy
folder, ``BPRACT_LLM_POLICY_DIR``, configures the models, else ``offline``; keys
alone do not turn on a second paid call per answer), ``offline`` (word overlap
and the knowledge base's embedder), ``overlap`` (word overlap only), ``off``.
``BPRACT_GROUNDING_INTERVAL``: seconds between passes (default 5).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from litestar import Litestar

from bpract.quality.grounding import Grounder, Grounding, OfflineGrounder
from bpract.quality.judge import JudgeGrounder
from bpract.quality.scorer import GroundingScorer

if TYPE_CHECKING:
    from bpract.kb.embed.base import Embedder

__all__ = ["MODES", "LazyGrounder", "grounder_for", "quality_lifespan"]

log = logging.getLogger("bpract.quality")

MODES = ("auto", "judge", "offline", "overlap", "off")


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


def _embedder(state: Any) -> Embedder | None:
    # The chat's knowledge base holds the embedder already loaded for retrieval: share it.
    chat = getattr(state, "chat", None)
    kb = getattr(chat, "kb", None) if chat is not None else None
    if kb is not None:
        found: Embedder = kb.embedder
        return found
    from bpract.kb import KnowledgeBaseError, embedder_from_env

    try:
        return embedder_from_env()
    except KnowledgeBaseError as exc:
        log.warning("grounding: no embedder (%s); word overlap only", exc.detail)
        return None


def grounder_for(mode: str, state: Any) -> Grounder:
    """The grounder ``mode`` names (``auto`` already resolved), for an app's ``state``."""
    if mode == "overlap":
        return OfflineGrounder()
    offline = OfflineGrounder(_embedder(state))
    gateway = getattr(state, "llm", None)
    if mode == "judge" and gateway is not None:
        return JudgeGrounder(gateway, offline)
    return offline


def _settings(env: Mapping[str, str]) -> tuple[str, float]:
    mode = env.get("BPRACT_GROUNDING", "").strip() or "auto"
    if mode not in MODES:
        raise ValueError(f"BPRACT_GROUNDING must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "auto":
        mode = "judge" if env.get("BPRACT_LLM_POLICY_DIR", "").strip() else "offline"
    interval = float(env.get("BPRACT_GROUNDING_INTERVAL", "").strip() or 5.0)
    return mode, interval


@contextlib.asynccontextmanager
async def quality_lifespan(app: Litestar) -> AsyncIterator[None]:
    """Run the grounding scorer while the app runs (after the main lifespan set up the state)."""
    mode, interval = _settings(os.environ)
    if mode == "off":
        yield
        return
    state = app.state
    scorer = GroundingScorer(
        state.db, LazyGrounder(lambda: grounder_for(mode, state)), interval_s=interval
    )
    app.state.grounding = scorer
    chat = getattr(state, "chat", None)
    if chat is not None and hasattr(chat, "add_listener"):

        async def stored(_answer: object) -> None:
            scorer.wake()

        chat.add_listener(stored)
    task = asyncio.create_task(scorer.run(), name="grounding-scorer")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
