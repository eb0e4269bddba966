"""A reply being written when a person takes over: withdrawn from the visitor, never stored.

The model (the fake OpenAI server through the unmodified SDK) takes seconds to answer the
visitor's question while the conversation waits for a person; the agent takes it over in
between. The visitor sees the reply start, then ``reply_drop`` for it and the person joining;
no ``reply_end`` ever comes for it and the database holds no bot turn for it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from chat.conftest import Sites, chat_db, chat_sites, help_template, open_chat, rows, start_server
from chat.test_model import openai_env
from fakes.llm_server import FakeLLMServer, Reply
from inbox.conftest import AgentClient, make_agent
from inbox.live import AgentSocket, take
from support.eventually import eventually_async
from support.server import ServerProcess

__all__ = ["chat_db", "chat_sites", "help_template"]  # the chat's fixtures, used here

SAM = "sam@northwind.test"
SLOW = 12.0  # s the model takes to answer: the takeover comes well inside it


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture(scope="module")
def server(chat_db: Path, chat_sites: Sites, fake: FakeLLMServer) -> Iterator[ServerProcess]:
    make_agent(chat_db, "default", SAM, "Sam Northwind")
    proc = start_server(chat_db, openai_env(fake))
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def sam(server: ServerProcess) -> Iterator[AgentClient]:
    with AgentClient(server) as client:
        yield client.signed_in(SAM)


async def test_the_reply_being_written_at_takeover_is_dropped(
    server: ServerProcess, fake: FakeLLMServer, chat_sites: Sites, chat_db: Path, sam: AgentClient
) -> None:
    desk = await AgentSocket.open(server, sam)  # Sam is online: the hand-off waits for him
    visitor, _ = await open_chat(server, chat_sites.help)
    try:
        await visitor.send({"t": "handoff", "seq": 1, "at": int(time.time() * 1000)})
        handed, _ = await visitor.reply()
        assert handed.end["kind"] == "handoff"
        conversation = str(handed.start["conversation"])
        # while it waits the assistant still answers; this answer is slow
        fake.script(Reply(text="You can pause your membership for up to three months.",
                          delay=SLOW))  # fmt: skip
        asked = len(fake.requests)
        await visitor.message("How long can I pause my membership?", seq=2)
        start, _ = await visitor.recv_until("reply_start", 15)
        assert start["conversation"] == conversation
        await eventually_async(lambda: len(fake.requests) > asked, what="the model asked")
        await desk.watch(conversation)
        taken = await asyncio.to_thread(take, sam, conversation)
        assert taken.status_code == 303
        # withdrawn at the takeover, while the model is still writing (not when it is done)
        drop, before = await visitor.recv_until("reply_drop", SLOW / 2)
        assert drop["id"] == start["id"]
        assert "reply_end" not in [f["t"] for f in before]
        # nothing more of that reply, ever: wait past the model's answer
        after: list[str] = []
        deadline = time.monotonic() + SLOW + 2
        while (left := deadline - time.monotonic()) > 0:
            try:
                frame = await visitor.recv(within=left)
            except TimeoutError:
                break
            if frame.get("id") == start["id"]:
                after.append(frame["t"])
        assert after == []
    finally:
        await visitor.close()
        await desk.close()
    stored = rows(chat_db, "SELECT id FROM chat_messages WHERE id = ?", start["id"])
    assert stored == []
    [(status, owner)] = rows(
        chat_db,
        "SELECT c.status, a.display_name FROM conversations c"
        " JOIN inbox_agents a ON a.id = c.owner_agent WHERE c.id = ?",
        conversation,
    )
    assert (status, owner) == ("human", "Sam Northwind")
