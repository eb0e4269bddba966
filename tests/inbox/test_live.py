"""Taking a conversation over and chatting live, over the real sockets: the visitor's
(``/v1/visitor``) and the agent's (``/inbox/live``), on a real server and SQLite file."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import apsw
import pytest
from websockets.exceptions import ConnectionClosed

from bpract.chat import storage as chat
from chat.conftest import ChatClient, open_chat
from inbox.conftest import ANA, GUS, LOU, XSS, AgentClient, Tenants, ask_for_person, csrf_of
from inbox.live import AgentSocket, release, take
from support.server import ServerProcess


@pytest.fixture
def ana(inbox_server: ServerProcess) -> Iterator[AgentClient]:
    with AgentClient(inbox_server) as client:
        yield client.signed_in(ANA)


@pytest.fixture
def lou(inbox_server: ServerProcess) -> Iterator[AgentClient]:
    with AgentClient(inbox_server) as client:
        yield client.signed_in(LOU)


@pytest.fixture
def gus(inbox_server: ServerProcess) -> Iterator[AgentClient]:
    with AgentClient(inbox_server) as client:
        yield client.signed_in(GUS)


def rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    conn = apsw.Connection(str(db))
    try:
        return list(conn.execute(sql, args))
    finally:
        conn.close()


async def waiting_visitor(server: ServerProcess, tenants: Tenants) -> tuple[ChatClient, str]:
    """A visitor (socket kept open) who asked for a person; their conversation id."""
    client, _ = await open_chat(server, tenants.acme)
    reply = await client.ask("I want to talk to a person")
    assert reply.end["kind"] == "ticket", reply.end  # no agent online yet
    return client, str(reply.start["conversation"])


async def frames_until(client: ChatClient, t: str, within: float = 15.0) -> list[dict[str, Any]]:
    """The visitor's frames up to and with the first of type ``t``."""
    frame, before = await client.recv_until(t, within)
    return [*before, frame]


async def test_an_agent_takes_over_and_they_chat_live_while_the_bot_is_silent(
    inbox_server: ServerProcess, tenants: Tenants, ana: AgentClient
) -> None:
    visitor, conversation = await waiting_visitor(inbox_server, tenants)
    desk = await AgentSocket.open(inbox_server, ana)
    try:
        assert desk.hello["name"] == "Ana Acme"
        await desk.watch(conversation)
        taken = await asyncio.to_thread(take, ana, conversation)
        assert taken.status_code == 303 and taken.headers["location"].endswith("?n=taken")
        joined = (await frames_until(visitor, "agent_joined"))[-1]
        assert joined["name"] == "Ana Acme" and joined["conversation"] == conversation

        await desk.send({"t": "typing", "conversation": conversation, "on": True})
        typing = (await frames_until(visitor, "agent_typing"))[-1]
        assert typing == {"t": "agent_typing", "name": "Ana Acme", "on": True}
        await desk.send({"t": "say", "conversation": conversation, "text": XSS, "id": "m1"})
        said = await desk.recv_until("said")
        message = (await frames_until(visitor, "agent_message"))[-1]
        assert message["text"] == XSS and message["name"] == "Ana Acme"
        assert message["id"] == said["message"]
        echo = await desk.recv_until("agent_message")  # every tab of every agent watching
        assert echo["id"] == said["message"]

        await visitor.send({"t": "typing", "on": True})
        assert (await desk.recv_until("visitor_typing"))["on"] is True
        await visitor.message("Thanks! It is order 10482.")
        seen = await desk.recv_until("visitor_message")
        assert seen["text"] == "Thanks! It is order 10482."
        await desk.send({"t": "say", "conversation": conversation, "text": "Found it.", "id": "m2"})
        meanwhile = await frames_until(visitor, "agent_message")
        assert "reply_start" not in [f["t"] for f in meanwhile]  # no bot while Ana has it
    finally:
        await desk.close()

    stored = rows(
        tenants.db, "SELECT role, text, author FROM chat_messages WHERE conversation_id = ?"
        " ORDER BY at_ms, rowid", conversation,
    )  # fmt: skip
    assert stored[-3:] == [
        ("agent", XSS, "Ana Acme"),
        ("visitor", "Thanks! It is order 10482.", None),
        ("agent", "Found it.", "Ana Acme"),
    ]
    # handed back: the assistant answers again
    back = await asyncio.to_thread(release, ana, conversation, "bot")
    assert back.status_code == 303
    left = (await frames_until(visitor, "agent_left"))[-1]
    assert (left["name"], left["to"]) == ("Ana Acme", "bot")
    try:
        reply = await visitor.ask("How do I return an item?")
        assert reply.end["kind"] in ("answer", "unknown")
    finally:
        await visitor.close()


async def test_a_reload_shows_the_agent_and_their_messages(
    inbox_server: ServerProcess, tenants: Tenants, ana: AgentClient
) -> None:
    visitor, conversation = await waiting_visitor(inbox_server, tenants)
    await visitor.close()
    assert (await asyncio.to_thread(take, ana, conversation)).status_code == 303
    desk = await AgentSocket.open(inbox_server, ana)
    try:
        await desk.send({"t": "say", "conversation": conversation, "text": "Hello!", "id": "x"})
        await desk.recv_until("said")
    finally:
        await desk.close()
    again = ChatClient((await type(visitor).open(inbox_server.ws_url, visitor_origin())).ws)
    try:
        await again.hello(tenants.acme.public_key, visitor=visitor.visitor)
        history = (await frames_until(again, "history"))[-1]
        assert history["messages"][-1] == {
            "id": history["messages"][-1]["id"], "role": "agent", "text": "Hello!",
            "at": history["messages"][-1]["at"], "citations": [], "name": "Ana Acme",
        }  # fmt: skip
        assert (await frames_until(again, "agent_joined"))[-1]["name"] == "Ana Acme"
    finally:
        await again.close()


def visitor_origin() -> str:
    from chat.conftest import ORIGIN

    return ORIGIN


def test_two_agents_taking_at_once_one_has_it_the_other_is_told(
    inbox_server: ServerProcess, tenants: Tenants, ana: AgentClient, lou: AgentClient
) -> None:
    for _ in range(4):
        conversation = ask_for_person(inbox_server, tenants.acme, first=None)
        tokens = [a.page_token(f"/inbox/c/{conversation}") for a in (ana, lou)]
        path = f"/inbox/c/{conversation}/take"
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            pairs = zip((ana, lou), tokens, strict=True)
            clicks = [pool.submit(a.post, path, data={"csrf": t}) for a, t in pairs]
            done = [c.result() for c in clicks]
        where = sorted(r.headers["location"].split("?", 1)[1] for r in done)
        assert where[1] == "n=taken" and where[0].startswith("lost="), where
        owner = rows(tenants.db, "SELECT owner_name FROM conversations WHERE id = ?", conversation)
        loser = "Lou Acme" if owner[0][0] == "Ana Acme" else "Ana Acme"
        told = (lou if loser == "Lou Acme" else ana).get(f"/inbox/c/{conversation}?{where[0]}")
        assert f"{owner[0][0]} took this conversation first." in told.text


def test_take_over_in_one_statement_from_two_connections(tenants: Tenants) -> None:
    """The statement itself decides: of two connections racing on the same file, one wins."""
    conversation = ask_for_person_conversation(tenants)

    def attempt(agent: int) -> bool:
        conn = apsw.Connection(str(tenants.db))
        conn.setbusytimeout(10_000)
        try:
            taken = chat.take_over(
                conn, [tenants.acme.id], conversation, agent_id=agent, name=f"a{agent}",
                at_ms=1,
            )  # fmt: skip
            assert taken is not None
            return taken.won
        finally:
            conn.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        won = list(pool.map(attempt, range(1000, 1008)))
    assert won.count(True) == 1


def ask_for_person_conversation(tenants: Tenants) -> str:
    conn = apsw.Connection(str(tenants.db))
    try:
        conv, _ = chat.open_conversation(
            conn, tenants.acme.id, "v_race_visitor", 10, since_ms=0, outreach_id=None
        )
        chat.hand_off(conn, tenants.acme.id, conv.id, at_ms=10, reason="r", department="support")
        return conv.id
    finally:
        conn.close()


async def test_another_organisations_agent_sees_nothing_of_it(
    inbox_server: ServerProcess, tenants: Tenants, gus: AgentClient, ana: AgentClient
) -> None:
    desk = await AgentSocket.open(inbox_server, gus)
    try:
        visitor, conversation = await waiting_visitor(inbox_server, tenants)
        await visitor.close()
        # pages and forms
        assert gus.get(f"/inbox/c/{conversation}").status_code == 404
        assert conversation not in gus.get("/inbox").text
        token = gus.page_token()
        for action, data in (
            ("take", {}), ("release", {"to": "bot"}), ("notes", {"text": "hi"}),
            ("say", {"text": "hi"}), ("transfer", {"agent": "1"}),
        ):  # fmt: skip
            answer = gus.post(f"/inbox/c/{conversation}/{action}", data={"csrf": token, **data})
            assert answer.status_code in (303, 400, 404), (action, answer.status_code)
            assert "n=taken" not in answer.headers.get("location", "")
        assert rows(tenants.db, "SELECT owner_agent FROM conversations WHERE id = ?",
                    conversation) == [(None,)]  # fmt: skip
        assert rows(tenants.db, "SELECT count(*) FROM inbox_notes WHERE conversation_id = ?",
                    conversation) == [(0,)]  # fmt: skip
        # the socket: not watchable, not writable, and Acme's queue events never reach Gus
        await desk.watch(conversation)
        assert (await desk.recv_until("refused"))["reason"] == "no such conversation"
        await desk.send({"t": "say", "conversation": conversation, "text": "x", "id": "1"})
        assert (await desk.recv_until("refused"))["id"] == "1"
        assert (await asyncio.to_thread(take, ana, conversation)).status_code == 303
        await desk.send({"t": "ping"})
        assert (await desk.recv_until("pong"))["t"] == "pong"  # no "queue" frame before it
    finally:
        await desk.close()


async def test_the_socket_refuses_strangers_foreign_pages_and_bad_frames(
    inbox_server: ServerProcess, ana: AgentClient
) -> None:
    stranger = await AgentSocket.open(inbox_server, None)  # no session cookie
    with pytest.raises(ConnectionClosed) as closed:
        await stranger.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
    foreign = await connect_with_cookie(inbox_server, ana, "https://evil.example")
    with pytest.raises(ConnectionClosed) as closed:
        await foreign.recv()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4403

    desk = await AgentSocket.open(inbox_server, ana)
    try:
        for bad in ("not json", json.dumps({"t": "say", "conversation": "c_x", "text": ""}),
                    json.dumps({"t": "format_disk"})):  # fmt: skip
            await desk.ws.send(bad)
            assert (await desk.recv_until("refused"))["reason"]
        await desk.send({"t": "say", "conversation": "c_nobody", "text": "hi", "id": "9"})
        assert (await desk.recv_until("refused"))["id"] == "9"
        await desk.send({"t": "ping"})
        assert (await desk.recv_until("pong"))["t"] == "pong"  # still open
        await desk.ws.send("x" * 20_000)  # past the socket's frame limit: closed
        with pytest.raises(ConnectionClosed) as closed:
            await desk.recv_until("never")
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    finally:
        await desk.close()


async def connect_with_cookie(server: ServerProcess, agent: AgentClient, origin: str) -> Any:
    from websockets.asyncio.client import connect

    url = server.ws_url.replace("/v1/visitor", "/inbox/live")
    headers = {"Origin": origin, "Cookie": f"bpract_inbox={agent.cookies['bpract_inbox']}"}
    return await connect(url, additional_headers=headers, open_timeout=10)


def test_notes_stay_with_the_team(
    inbox_server: ServerProcess, tenants: Tenants, ana: AgentClient, lou: AgentClient
) -> None:
    conversation = ask_for_person(inbox_server, tenants.acme, first=None)
    note = f"Refund approved by finance {XSS}"
    token = ana.page_token(f"/inbox/c/{conversation}")
    added = ana.post(f"/inbox/c/{conversation}/notes", data={"csrf": token, "text": note})
    assert added.status_code == 303
    page = lou.get(f"/inbox/c/{conversation}").text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page and XSS not in page
    assert rows(tenants.db, "SELECT count(*) FROM chat_messages WHERE text = ?", note) == [(0,)]


def test_transfer_to_a_colleague_and_back_to_the_queue(
    inbox_server: ServerProcess, tenants: Tenants, ana: AgentClient, lou: AgentClient
) -> None:
    conversation = ask_for_person(inbox_server, tenants.acme, first=None)
    assert take(ana, conversation).headers["location"].endswith("?n=taken")
    lou_id = rows(tenants.db, "SELECT id FROM inbox_agents WHERE email = ?", LOU)[0][0]
    token = ana.page_token(f"/inbox/c/{conversation}")
    moved = ana.post(f"/inbox/c/{conversation}/transfer", data={"csrf": token, "agent": lou_id})
    assert moved.status_code == 303
    assert rows(tenants.db, "SELECT owner_name FROM conversations WHERE id = ?",
                conversation) == [("Lou Acme",)]  # fmt: skip
    # Ana no longer has it: her message is refused, Lou's goes
    token = ana.page_token(f"/inbox/c/{conversation}")
    refused = ana.post(f"/inbox/c/{conversation}/say", data={"csrf": token, "text": "hi"})
    assert refused.headers["location"].endswith("?n=not-yours")
    assert release(lou, conversation, "queue", department="billing").status_code == 303
    found = rows(
        tenants.db, "SELECT status, owner_agent, handoff_department FROM conversations"
        " WHERE id = ?", conversation,
    )  # fmt: skip
    assert found == [("human", None, "billing")]
    assert conversation in lou.get("/inbox").text  # waiting again
    assert release(ana, conversation, "resolved").headers["location"].endswith("?n=not-yours")


def test_the_form_composer_stores_a_resent_form_once_and_two_messages_twice(
    inbox_server: ServerProcess, tenants: Tenants, ana: AgentClient
) -> None:
    """Without script the reply box posts a form; its page's id makes a resend one message."""
    conversation = ask_for_person(inbox_server, tenants.acme, first=None)
    assert take(ana, conversation).headers["location"].endswith("?n=taken")
    said = "SELECT count(*) FROM chat_messages WHERE conversation_id = ? AND text = ?"

    def page_form() -> dict[str, str]:
        page = ana.get(f"/inbox/c/{conversation}").text
        found = re.search(r'name="id" value="([^"]+)"', page)
        assert found is not None
        return {"csrf": csrf_of(page), "id": found[1], "text": "Thanks, one moment"}

    form = page_form()
    for _ in range(2):  # the same form sent twice (a double click, a resend after a reload)
        sent = ana.post(f"/inbox/c/{conversation}/say", data=form)
        assert sent.headers["location"].endswith("?n=sent")
    assert rows(tenants.db, said, conversation, "Thanks, one moment") == [(1,)]
    again = ana.post(f"/inbox/c/{conversation}/say", data=page_form())  # the same words, later
    assert again.headers["location"].endswith("?n=sent")
    assert rows(tenants.db, said, conversation, "Thanks, one moment") == [(2,)]
