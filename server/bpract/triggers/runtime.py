"""What the server runs for trigger decisions: the gateway, the decider, their background jobs."""

from __future__ import annotations

import asyncio
import importlib
import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bpract.llm.setup import build_gateway, release_stale_forever
from bpract.store import Database
from bpract.triggers.llm_decider import LLMDecider, Passage, Passages, decider_for

if TYPE_CHECKING:
    from bpract.triggers.service import TriggerService

__all__ = ["DeciderRuntime", "LazyKnowledgeBase"]


class LazyKnowledgeBase:
    """The knowledge bases of ``db``, searched with the embedder ``env`` names; the
    ``bpract.kb`` stack (numpy, the embedder) loads on the first search, not at start-up."""

    def __init__(self, db: Database, env: Mapping[str, str] | None = None) -> None:
        self._db = db
        self._env = dict(os.environ if env is None else env)
        self._kb: Passages | None = None

    async def search(self, site_id: int, query: str, k: int = 5) -> Sequence[Passage]:
        if self._kb is None:
            from bpract.kb import KnowledgeBase, embedder_from_env

            self._kb = KnowledgeBase(self._db, embedder_from_env(self._env))
        return await self._kb.search(site_id, query, k)


class DeciderRuntime:
    """Builds the gateway and decider from ``env``; :meth:`start` runs the background jobs
    (stale budget reservations freed, rulesets saved elsewhere pushed), :meth:`aclose` ends all."""

    def __init__(self, db: Database, env: Mapping[str, str] | None = None) -> None:
        self.gateway = build_gateway(db, env)
        self.decider = decider_for(self.gateway, db, kb=LazyKnowledgeBase(db, env))
        self._jobs: list[asyncio.Task[None]] = []

    def start(self, triggers: TriggerService) -> None:
        self._jobs = [
            asyncio.create_task(release_stale_forever(self.gateway)),
            asyncio.create_task(triggers.watch_outside_changes()),
        ]
        if isinstance(self.decider, LLMDecider):
            self._jobs.append(asyncio.create_task(asyncio.to_thread(_import_sdks)))

    async def aclose(self) -> None:
        for job in self._jobs:
            job.cancel()
        await asyncio.gather(*self._jobs, return_exceptions=True)
        if isinstance(self.decider, LLMDecider):
            await self.decider.aclose()
        await self.gateway.aclose()


def _import_sdks() -> None:
    """Import the provider SDKs off the event loop, so the first decision does not wait."""
    importlib.import_module("bpract.llm.providers.anthropic")
    importlib.import_module("bpract.llm.providers.openai")
