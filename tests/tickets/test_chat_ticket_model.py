"""The model's hand-off outside business hours: the words it streamed are reset, the answer is
the ticket sentence with kind ``ticket``, and the conversation goes to the team it named."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bpract.chat.phrases import phrases
from chat.conftest import Sites, chat_db, chat_sites, help_template, open_chat, rows, start_server
from fakes.llm_server import FakeLLMServer, Reply
from support.server import ServerProcess
from support.sites import make_token
from tickets.test_chat_ticket import _closed_hours

__all__ = ["chat_db", "chat_sites", "help_template"]  # the chat's fixtures, used here


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeLLMServer]:
    with FakeLLMServer() as server:
        yield server


@pytest.fixture(scope="module")
def closed_server(chat_db: Path, chat_sites: Sites, fake: FakeLLMServer) -> Iterator[ServerProcess]:
    env = {"OPENAI_API_KEY": "sk-test-not-real", "BPRACT_OPENAI_BASE_URL": fake.openai_url}
    proc = start_server(chat_db, env)
    try:
        token = make_token(chat_db, "tickets")
        url = f"{proc.url}/api/sites/{chat_sites.help.public_key}/ticket-settings"
        put = httpx.put(url, json={"hours": _closed_hours()},
                        headers={"Authorization": f"Bearer {token}"})  # fmt: skip
        assert put.status_code == 200, put.text
        yield proc
    finally:
        proc.stop()


async def test_the_models_hand_off_outside_hours_asks_for_a_ticket(
    closed_server: ServerProcess, fake: FakeLLMServer, chat_sites: Sites, chat_db: Path
) -> None:
    reason = "Parcel lost twice; the visitor wants compensation"
    fake.script(Reply(text="Let me get", tool_calls=(("hand_to_person",
                      {"reason": reason, "department": "billing"}),)))  # fmt: skip
    client, _ = await open_chat(closed_server, chat_sites.help)
    try:
        reply = await client.ask("My parcel got lost again, this is the second time!")
    finally:
        await client.close()
    assert reply.end["kind"] == "ticket" and reply.end["text"] == phrases("en").ticket
    assert reply.streamed == reply.end["text"]  # the hand-off sentence was reset
    stored = rows(chat_db, "SELECT status, handoff_reason, handoff_department"
                  " FROM conversations WHERE id = ?", reply.start["conversation"])  # fmt: skip
    assert stored == [("human", reason, "billing")]
    [(kind,)] = rows(chat_db, "SELECT kind FROM chat_messages WHERE id = ?", reply.end["id"])
    assert kind == "ticket"
