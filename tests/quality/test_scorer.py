"""The background scorer: every bot answer gets a grounding once, in the server too."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from bpract.quality import Grounding, GroundingScorer, OfflineGrounder
from bpract.quality.lifespan import _settings
from bpract.store import Database
from quality.conftest import Chat
from support.eventually import eventually, eventually_async
from support.server import ServerProcess

PASSAGES = [{"text": "Refunds are issued within 5 working days of the return arriving."}]


def groundings(db: Database) -> dict[str, tuple[Any, Any]]:
    rows = db.run_sync(
        lambda c: c.execute(
            "SELECT id, grounding, grounding_method FROM chat_messages WHERE role = 'bot'"
        ).fetchall()
    )
    return {str(i): (g, m) for i, g, m in rows}


async def test_scores_answers_once(db: Database, chat: Chat) -> None:
    good = chat.turn(1, "v", "Refund?", "Refunds are issued within 5 working days.",
                     passages=PASSAGES)  # fmt: skip
    bad = chat.turn(2, "w", "Refund?", "Refunds are issued within 30 days.", passages=PASSAGES)
    unknown = chat.turn(1, "v", "Life?", "I don't know that.", kind="unknown")
    done = chat.turn(1, "v", "Refund?", "Refunds take ages.", grounding=0.3)
    scorer = GroundingScorer(db, OfflineGrounder(), batch=1)
    assert await scorer.score_pending() == 1
    assert await scorer.score_pending() == 1
    assert await scorer.score_pending() == 0
    found = groundings(db)
    assert found[good] == (1.0, "offline:overlap")
    assert found[bad] == (0.0, "offline:overlap")
    assert found[unknown] == (None, None)
    assert found[done] == (0.3, "test")


class Flaky:
    """Fails on one answer, to check the others still get scored."""

    async def score(
        self, answer: str, passages: Sequence[dict[str, Any]], *, site_id: int = 0
    ) -> Grounding:
        if "boom" in answer:
            raise RuntimeError("cannot score")
        return Grounding(score=0.5, method="flaky")


async def test_a_failing_answer_does_not_block_the_rest(db: Database, chat: Chat) -> None:
    broken = chat.turn(1, "v", "Q", "boom", at_ms=1)
    fine = chat.turn(1, "v", "Q", "fine answer here", at_ms=2)
    db.run_sync(lambda c: c.execute("UPDATE chat_messages SET passages = '{bad' WHERE id = ?",
                                    (fine,)))  # fmt: skip
    scorer = GroundingScorer(db, Flaky(), batch=1)
    assert await scorer.score_pending() == 0
    assert await scorer.score_pending() == 1
    assert await scorer.score_pending() == 0
    assert groundings(db)[broken] == (None, None)
    assert groundings(db)[fine] == (0.5, "flaky")


class Passes:
    """The scorer's database, counting its passes: each starts with one read of pending answers."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.reads = 0

    async def run(self, fn: Callable[[Any], Any]) -> Any:
        try:
            return await self.db.run(fn)
        finally:
            self.reads += 1  # the scorer goes on to wait without yielding when nothing is pending

    def __getattr__(self, name: str) -> Any:
        return getattr(self.db, name)


async def test_run_wakes_early_and_stops_on_cancel(db: Database, chat: Chat) -> None:
    passes = Passes(db)
    scorer = GroundingScorer(passes, OfflineGrounder(), interval_s=60)  # type: ignore[arg-type]
    task = asyncio.create_task(scorer.run())
    try:
        await eventually_async(lambda: passes.reads, what="first pass done, scorer waiting")
        reply = chat.turn(1, "v", "Q", "Refunds are issued within 5 working days.",
                          passages=PASSAGES)  # fmt: skip
        scorer.wake()
        # far less than the 60 s interval
        await eventually_async(lambda: groundings(db)[reply][0] is not None, timeout=10)
    finally:
        task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert groundings(db)[reply] == (1.0, "offline:overlap")


def test_settings() -> None:
    assert _settings({}) == ("offline", 5.0)
    assert _settings({"BPRACT_LLM_POLICY_DIR": "/etc/bpract"}) == ("judge", 5.0)
    assert _settings({"BPRACT_GROUNDING": "judge"}) == ("judge", 5.0)
    assert _settings({"BPRACT_GROUNDING": "off", "BPRACT_GROUNDING_INTERVAL": "0.5"}) == (
        "off",
        0.5,
    )
    with pytest.raises(ValueError, match="BPRACT_GROUNDING"):
        _settings({"BPRACT_GROUNDING": "sometimes"})


def wait_for(db: Database, ids: list[str], within: float = 30.0) -> dict[str, tuple[Any, Any]]:
    def scored() -> dict[str, tuple[Any, Any]] | None:
        found = groundings(db)
        return found if all(found[i][0] is not None for i in ids) else None

    found = eventually(scored, within, 0.1, what=f"{ids} scored")
    assert found is not None
    return found


def test_the_server_scores_in_the_background_across_restarts(
    db: Database, chat: Chat, tmp_path: Path
) -> None:
    first = chat.turn(1, "v", "Refund?", "Refunds are issued within 5 working days.",
                      passages=PASSAGES)  # fmt: skip
    env = {"BPRACT_GROUNDING": "overlap", "BPRACT_GROUNDING_INTERVAL": "0.2"}
    server = ServerProcess(Path(db.path), env=env, log_path=tmp_path / "server.log")
    with server:
        assert wait_for(db, [first])[first] == (1.0, "offline:overlap")
    second = chat.turn(1, "w", "Refund?", "Refunds take 30 days.", passages=PASSAGES)
    with server:
        found = wait_for(db, [second])
    assert found[second] == (0.0, "offline:overlap") and found[first][0] == 1.0
    assert "Traceback" not in server.log()


def test_the_server_asks_the_judge_model_when_told(
    db: Database, chat: Chat, tmp_path: Path
) -> None:
    from fakes.llm_server import FakeLLMServer, Reply

    reply = chat.turn(1, "v", "Refund?", "Refunds take 5 days. Free tote bags.", passages=PASSAGES)
    verdict = {"supported": ["Refunds take 5 days."], "unsupported": ["Free tote bags."],
               "score": 0.5}  # fmt: skip
    with FakeLLMServer() as fake:
        fake.always("gpt-4.1", Reply(text=json.dumps(verdict)))
        env = {"BPRACT_GROUNDING": "judge", "BPRACT_GROUNDING_INTERVAL": "0.2",
               "OPENAI_API_KEY": "sk-test-judge", "BPRACT_OPENAI_BASE_URL": fake.openai_url,
               "ANTHROPIC_API_KEY": "", "OPENROUTER_API_KEY": "", "BPRACT_LLM_BASE_URL": "",
               "BPRACT_LLM_POLICY_DIR": ""}  # fmt: skip
        with ServerProcess(Path(db.path), env=env, log_path=tmp_path / "judge.log"):
            found = wait_for(db, [reply])
        bodies = [r.body for r in fake.requests]
    assert found[reply] == (round(20 / 35, 4), "judge:openai:gpt-4.1")
    assert any(b.get("response_format", {}).get("type") == "json_schema" for b in bodies)


async def test_a_wake_at_the_moment_of_cancelling_still_stops_the_scorer(db: Database) -> None:
    """On Python 3.11 ``asyncio.wait_for`` can swallow a cancel that meets a wake-up."""
    for _ in range(50):
        scorer = GroundingScorer(db, OfflineGrounder(), interval_s=30)
        task = asyncio.create_task(scorer.run())
        # asleep between passes: someone waits on its wake-up event
        waiters = scorer._wake._waiters  # type: ignore[attr-defined]
        await eventually_async(lambda w=waiters: bool(w))
        scorer.wake()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 2)
