"""Chat abuse: limits per client address and per site that rotating visitor ids do not reset,
and a conversation that only the visitor holding its key can read or continue."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chat.conftest import ChatClient, Sites, open_chat, rows, start_server
from support.server import ServerProcess
from support.visitor import new_id


async def outcome_of(client: ChatClient, text: str) -> dict[str, Any]:
    """``reply_end`` of the answer to ``text``, or the ``error`` refusing it."""
    await client.message(text)
    while True:
        frame = await client.recv(60)
        if frame["t"] in ("reply_end", "error"):
            return frame


async def one_message(server: ServerProcess, site: Any, text: str) -> str:
    client, _ = await open_chat(server, site)
    try:
        frame = await outcome_of(client, text)
    finally:
        await client.close()
    return "answered" if frame["t"] == "reply_end" else str(frame["code"])


@pytest.fixture(scope="module")
def address_server(chat_db: Path) -> Iterator[ServerProcess]:
    env = {"BPRACT_CHAT_ADDRESS_NEW": "3", "BPRACT_CHAT_ADDRESS_RATE": "5"}
    server = start_server(chat_db, env)
    try:
        yield server
    finally:
        server.stop()


async def test_rotating_visitor_ids_hit_the_address_limits(
    address_server: ServerProcess, chat_sites: Sites
) -> None:
    server, site = address_server, chat_sites.help
    clients = [(await open_chat(server, site))[0] for _ in range(4)]
    try:
        # each a new visitor id: a new conversation each, until this address's 3 are spent
        first = [(await outcome_of(c, "How do I return an item?"))["t"] for c in clients]
        assert first == ["reply_end"] * 3 + ["error"]
        # continuing a conversation is no new one, but messages are counted too (5 a minute)
        more = [(await outcome_of(c, "And exchanges?"))["t"] for c in clients[:3]]
        assert more == ["reply_end", "reply_end", "error"]
        refused = await outcome_of(clients[3], "Still there?")
        assert refused["code"] == "rate_limited" and refused["seq"] == 2
    finally:
        for client in clients:
            await client.close()
    visitors = [c.visitor for c in clients]
    started = rows(
        server.db,
        f"SELECT count(*) FROM conversations WHERE visitor IN ({','.join('?' * 4)})",
        *visitors,
    )
    assert started == [(3,)]


async def test_the_site_limit_is_shared_by_every_address_and_spares_other_sites(
    chat_db: Path, chat_sites: Sites
) -> None:
    server = start_server(chat_db, {"BPRACT_CHAT_SITE_NEW": "2"})
    try:
        outcomes = [await one_message(server, chat_sites.help, "Payments?") for _ in range(3)]
        other = await one_message(server, chat_sites.other, "Hello?")
    finally:
        server.stop()
    assert outcomes == ["answered", "answered", "rate_limited"]
    assert other == "answered"


@pytest.fixture(scope="module")
def keyed_server(chat_db: Path) -> Iterator[ServerProcess]:
    server = start_server(chat_db, {"BPRACT_VISITOR_KEY_GRACE": "0"})
    try:
        yield server
    finally:
        server.stop()


async def test_only_the_visitor_with_the_key_reads_and_continues_the_conversation(
    keyed_server: ServerProcess, chat_sites: Sites
) -> None:
    server, site, visitor = keyed_server, chat_sites.help, new_id("v_")
    owner, welcome = await open_chat(server, site, visitor=visitor)
    try:
        first = await owner.ask("How do I return an item?")
    finally:
        await owner.close()
    conversation, key = first.start["conversation"], welcome["key"]

    # Someone who knows the visitor id (and sends the site's Origin, as any script can)
    for wrong in (None, "k_" + "A" * 43):
        intruder, welcome = await open_chat(server, site, visitor=visitor, key=wrong)
        try:
            assert welcome["visitor"] != visitor
            await intruder.send({"t": "ping"})
            assert await intruder.recv() == {"t": "pong"}  # no history came before it
            reply = await intruder.ask("What did I ask before?")
        finally:
            await intruder.close()
        assert reply.start["conversation"] != conversation
    turns = rows(
        server.db,
        "SELECT text FROM chat_messages WHERE conversation_id = ? AND role = 'visitor'",
        conversation,
    )
    assert turns == [("How do I return an item?",)]

    back, welcome = await open_chat(server, site, visitor=visitor, key=key)
    try:
        assert welcome["visitor"] == visitor
        history = await back.recv()
        assert history["t"] == "history" and history["conversation"] == conversation
        assert history["messages"][0]["text"] == "How do I return an item?"
        again = await back.ask("And exchanges?")
    finally:
        await back.close()
    assert again.start["conversation"] == conversation
