"""The chat with no model configured: extractive answers from the demo help centre, cited."""

from __future__ import annotations

import time
from pathlib import Path

from chat.conftest import Sites, open_chat, rows
from support.server import ServerProcess


async def test_offline_answer_quotes_the_right_article(
    offline_server: ServerProcess, chat_sites: Sites, chat_db: Path
) -> None:
    client, _ = await open_chat(offline_server, chat_sites.help)
    try:
        seq = await client.message("How long can I pause my membership?")
        reply, others = await client.reply()
    finally:
        await client.close()
    assert [f["t"] for f in others] == ["ack"] and others[0]["seq"] == [seq]
    assert reply.start["in_reply_to"] == seq and reply.start["conversation"].startswith("c_")
    end = reply.end
    assert end["kind"] == "answer" and end["offline"] is True
    assert end["text"].startswith("This is an automatic answer taken from our help centre:")
    assert "three months" in end["text"] and "[1]" in end["text"]
    assert end["citations"][0] == {
        "n": 1,
        "title": "Pausing your membership",
        "url": "/help/pausing-membership",
        "section": end["citations"][0]["section"],
    }
    assert reply.streamed == end["text"]
    stored = rows(
        chat_db,
        "SELECT role, kind, offline, retrieval_confidence, passages FROM chat_messages"
        " WHERE conversation_id = ? ORDER BY at_ms",
        reply.start["conversation"],
    )
    assert [r[0] for r in stored] == ["visitor", "bot"]
    assert stored[1][1:3] == ("answer", 1) and stored[1][3] > 0.5
    assert "three months" in stored[1][4]


async def test_offline_answer_in_the_visitors_language(
    offline_server: ServerProcess, chat_sites: Sites
) -> None:
    client, _ = await open_chat(offline_server, chat_sites.help, lang="en-US")
    try:
        reply = await client.ask("Bonjour, comment je peux annuler ma membership du Club ?")
    finally:
        await client.close()
    assert reply.end["kind"] == "answer", reply.end
    assert reply.end["text"].startswith(
        "Voici une réponse automatique tirée de notre centre d'aide"
    )
    assert reply.end["citations"][0]["title"] == "Cancelling your Club membership"


async def test_off_topic_question_is_unknown_and_recorded(
    offline_server: ServerProcess, chat_sites: Sites, chat_db: Path
) -> None:
    client, _ = await open_chat(offline_server, chat_sites.help)
    question = "Who won the football world cup in 2018?"
    try:
        reply = await client.ask(question)
    finally:
        await client.close()
    assert reply.end["kind"] == "unknown" and reply.end["citations"] == []
    assert "don't know" in reply.end["text"] and "person" in reply.end["text"]
    assert rows(chat_db, "SELECT site_id FROM kb_unanswered WHERE question = ?", question) == [(1,)]


async def test_asking_for_a_human_hands_off(
    offline_server: ServerProcess, chat_sites: Sites, chat_db: Path
) -> None:
    client, _ = await open_chat(offline_server, chat_sites.help)
    try:
        reply = await client.ask("Can I talk to a human please?")
        german = await client.ask("Ich möchte mit einem Mitarbeiter sprechen")
    finally:
        await client.close()
    assert reply.end["kind"] == "handoff" and "person on the team" in reply.end["text"]
    assert german.end["kind"] == "handoff" and "Person aus dem Team" in german.end["text"]
    status = rows(
        chat_db, "SELECT status FROM conversations WHERE id = ?", reply.start["conversation"]
    )
    assert status == [("human",)]


async def test_talk_to_a_person_hands_off_in_the_visitors_language_once(
    offline_server: ServerProcess, chat_sites: Sites, chat_db: Path
) -> None:
    client, _ = await open_chat(offline_server, chat_sites.help, lang="fr-FR")
    try:
        frame = {"t": "handoff", "seq": 1, "at": int(time.time() * 1000)}
        await client.send(frame)
        reply, others = await client.reply()
        await client.send(frame)  # the same click again (a resend): acknowledged, nothing new
        await client.send({"t": "ping"})
        after = [await client.recv(10) for _ in range(2)]
    finally:
        await client.close()
    assert reply.end["kind"] == "handoff" and "personne de l'équipe" in reply.end["text"]
    assert {"t": "ack", "seq": [1]} in others
    assert [f["t"] for f in after] == ["ack", "pong"]
    conversation = reply.start["conversation"]
    handed = rows(
        chat_db,
        "SELECT status, handoff_reason, handoff_department, handoff_at_ms FROM conversations"
        " WHERE id = ?",
        conversation,
    )
    assert handed[0][:3] == ("human", "The visitor clicked Talk to a person.", "support")
    assert handed[0][3] > 0  # when it was handed off: where it waits in the queue
    turns = rows(
        chat_db,
        "SELECT role, text FROM chat_messages WHERE conversation_id = ? ORDER BY at_ms",
        conversation,
    )
    assert turns == [("visitor", "Je voudrais parler à une personne."), ("bot", reply.end["text"])]
