"""Conversations: exactly-once answers, limits, history on reconnect, outreach replies, tenancy."""

from __future__ import annotations

import time
from pathlib import Path

import apsw

from chat.conftest import ChatClient, Sites, open_chat, rows
from support.eventually import eventually_async
from support.server import ServerProcess
from support.visitor import new_id


async def test_a_duplicate_message_seq_gets_one_answer(
    offline_server: ServerProcess, chat_sites: Sites, chat_db: Path
) -> None:
    client, _ = await open_chat(offline_server, chat_sites.help)
    try:
        await client.message("How do I return an item?", seq=1)
        first, _ = await client.reply()
        await client.message("How do I return an item?", seq=1)  # a resend after a reconnect
        ack, skipped = await client.recv_until("ack")
        assert ack["seq"] == [1] and skipped == []
        await client.send({"t": "ping"})
        _, between = await client.recv_until("pong", within=5)
        assert between == []  # no second reply_start came before the pong
    finally:
        await client.close()
    turns = rows(
        chat_db,
        "SELECT role FROM chat_messages WHERE conversation_id = ?",
        first.start["conversation"],
    )
    assert sorted(r[0] for r in turns) == ["bot", "visitor"]


async def test_oversize_message_is_invalid_and_not_acknowledged(
    offline_server: ServerProcess, chat_sites: Sites
) -> None:
    client, _ = await open_chat(offline_server, chat_sites.help)
    try:
        await client.message("x" * 2001, seq=1)
        error = await client.recv()
        await client.message("y" * 2000, seq=2)
        ack, _ = await client.recv_until("ack")
    finally:
        await client.close()
    assert error["t"] == "error" and error["code"] == "invalid" and "$.text" in error["message"]
    assert ack["seq"] == [2]


async def test_history_after_reconnect_restores_the_conversation(
    offline_server: ServerProcess, chat_sites: Sites
) -> None:
    visitor = new_id("v_")
    client, _ = await open_chat(offline_server, chat_sites.help, visitor=visitor)
    try:
        await client.message("Which payment methods do you accept?")
    finally:
        await client.close()  # gone while the answer is being written
    stored = (
        "SELECT m.role FROM chat_messages m JOIN conversations c ON c.id = m.conversation_id"
        " WHERE c.visitor = ? AND m.role = 'bot'"
    )
    await eventually_async(lambda: rows(offline_server.db, stored, visitor), what="answer stored")
    again, _ = await open_chat(offline_server, chat_sites.help, visitor=visitor)
    try:
        history = await again.recv()
    finally:
        await again.close()
    assert history["t"] == "history" and history["conversation"].startswith("c_")
    roles = [m["role"] for m in history["messages"]]
    assert roles == ["visitor", "bot"], history
    bot = history["messages"][1]
    assert bot["id"].startswith("r_") and bot["citations"][0]["title"] == "Payment methods"
    fresh, _ = await open_chat(offline_server, chat_sites.help)  # a new visitor: no history
    try:
        await fresh.send({"t": "ping"})
        assert (await fresh.recv())["t"] == "pong"
    finally:
        await fresh.close()


def _outreach(db: Path, site_id: int, visitor: str, text: str) -> str:
    outreach_id = new_id("o_")
    now = int(time.time() * 1000)
    conn = apsw.Connection(str(db))
    conn.set_busy_timeout(5000)
    try:
        with conn:
            conn.execute(
                "INSERT INTO fires (site_id, visitor, rule_id, rule_version, at_ms, received_ms,"
                " status) VALUES (?, ?, 'pause-offer', 1, ?, ?, 'sent')",
                (site_id, visitor, now, now),
            )
            fire_id = conn.last_insert_rowid()
            conn.execute(
                "INSERT INTO outreach (id, site_id, visitor, rule_id, fire_id, message,"
                " decided_by, sent_ms) VALUES (?, ?, ?, 'pause-offer', ?, ?, 'rule', ?)",
                (outreach_id, site_id, visitor, fire_id, text, now),
            )
    finally:
        conn.close()
    return outreach_id


async def test_a_reply_to_an_outreach_continues_its_conversation(
    offline_server: ServerProcess, chat_sites: Sites, chat_db: Path
) -> None:
    visitor = new_id("v_")
    offer = "Thinking of cancelling? You can pause your membership instead."
    outreach_id = _outreach(chat_db, chat_sites.help.id, visitor, offer)
    client, _ = await open_chat(offline_server, chat_sites.help, visitor=visitor)
    try:
        reply = await client.ask("How long can I pause it?", outreach=outreach_id)
    finally:
        await client.close()
    conversation = reply.start["conversation"]
    assert rows(chat_db, "SELECT outreach_id FROM conversations WHERE id = ?", conversation) == [
        (outreach_id,)
    ]
    again, _ = await open_chat(offline_server, chat_sites.help, visitor=visitor)
    try:
        history = await again.recv()
    finally:
        await again.close()
    assert [(m["role"], m["text"]) for m in history["messages"][:2]] == [
        ("bot", offer),
        ("visitor", "How long can I pause it?"),
    ]


async def test_another_sites_ids_are_never_visible(
    offline_server: ServerProcess, chat_sites: Sites, chat_db: Path
) -> None:
    # A visitor of the help site gets an answer and has an outreach.
    visitor = new_id("v_")
    secret_offer = "A private offer for the help site's visitor."
    outreach_id = _outreach(chat_db, chat_sites.help.id, visitor, secret_offer)
    owner, _ = await open_chat(offline_server, chat_sites.help, visitor=visitor)
    try:
        answer = await owner.ask("How do I track my order?")
    finally:
        await owner.close()
    # The same visitor id on the other site: no history, no outreach, no ratings of that answer.
    intruder, _ = await open_chat(offline_server, chat_sites.other, visitor=visitor)
    try:
        await intruder.send({"t": "ping"})
        assert (await intruder.recv())["t"] == "pong"  # no history frame first
        await intruder.send(
            {"t": "rate", "seq": 1, "at": 1, "reply": answer.end["id"], "rating": "down"}
        )
        ack, _ = await intruder.recv_until("ack")
        error = await intruder.recv()
        intruder.seq = 1  # the rate frame used seq 1
        reply = await intruder.ask("How do I track my order?", outreach=outreach_id)
    finally:
        await intruder.close()
    assert ack["seq"] == [1] and error["code"] == "invalid" and error["seq"] == 1
    assert reply.start["conversation"] != answer.start["conversation"]
    assert reply.end["kind"] == "unknown"  # the other site's knowledge base is empty
    assert secret_offer not in reply.end["text"]
    assert rows(chat_db, "SELECT count(*) FROM chat_ratings") == [(0,)]
    other_conv = rows(
        chat_db,
        "SELECT site_id, outreach_id FROM conversations WHERE id = ?",
        reply.start["conversation"],
    )
    assert other_conv == [(chat_sites.other.id, None)]


async def test_rating_an_answer(
    offline_server: ServerProcess, chat_sites: Sites, chat_db: Path
) -> None:
    client, _ = await open_chat(offline_server, chat_sites.help)
    try:
        answer = await client.ask("How much does Club Plus cost?")
        rid = answer.end["id"]
        await client.send(
            {"t": "rate", "seq": 10, "at": 1, "reply": rid, "rating": "up", "comment": "clear"}
        )
        ack, _ = await client.recv_until("ack")
        await client.send({"t": "rate", "seq": 11, "at": 2, "reply": rid, "rating": "down"})
        await client.recv_until("ack")
        await client.send({"t": "ping"})
        _, between = await client.recv_until("pong")
    finally:
        await client.close()
    assert ack["seq"] == [10] and between == []
    assert rows(chat_db, "SELECT rating, comment FROM chat_ratings WHERE message_id = ?", rid) == [
        ("down", None)
    ]


async def test_chat_rate_limit(chat_db: Path, chat_sites: Sites) -> None:
    from chat.conftest import start_server

    server = start_server(chat_db, {"BPRACT_CHAT_RATE": "2"})
    try:
        client, _ = await open_chat(server, chat_sites.help)
        try:
            for seq in (1, 2):
                await client.message("Tell me a joke", seq=seq)
                await client.reply()
            await client.message("Tell me a joke", seq=3)
            error, _ = await client.recv_until("error")
        finally:
            await client.close()
    finally:
        server.stop()
    assert error["code"] == "rate_limited" and error["seq"] == 3


async def test_one_answer_in_flight_per_conversation(
    offline_server: ServerProcess, chat_sites: Sites
) -> None:
    client: ChatClient
    client, _ = await open_chat(offline_server, chat_sites.help)
    try:
        await client.message("How do I return an item?", seq=1)
        await client.message("Which payment methods do you accept?", seq=2)
        first, _ = await client.reply()
        second, _ = await client.reply()
    finally:
        await client.close()
    assert first.start["in_reply_to"] == 1 and second.start["in_reply_to"] == 2
    assert first.end["citations"][0]["title"] == "Returns and exchanges"
    assert second.end["citations"][0]["title"] == "Payment methods"
