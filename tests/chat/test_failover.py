"""Hand-off on repeated failure (``handoff_on_failure``): its REST and CLI setting, and the
three triggers (a second "I don't know" in a row, a thumbs-down, a failed action), each
with the setting on and off.

A real server (no model key) over the demo help centre, with the demo store's actions on
its API on loopback; the other site's knowledge base is empty, so it never knows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bpract.cli import main
from chat.conftest import ChatClient, Sites, open_chat, rows, start_server
from chat.test_actions_chat import (
    confirm,
    declare_demo_actions,
    demo_env,
    identity,
    quiet,
    until,
)
from demo.conftest import DemoServer, _start
from support.server import ServerProcess
from support.sites import make_site, make_token

HANDOFF_EN = "person on the team"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoServer]:
    yield from _start(tmp_path_factory.mktemp("demo") / "demo.sqlite3")


@pytest.fixture(scope="module")
def server(chat_db: Path, chat_sites: Sites, demo: DemoServer) -> Iterator[ServerProcess]:
    declare_demo_actions(chat_db, chat_sites.help.id, demo)
    proc = start_server(chat_db, demo_env(demo))
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture(scope="module")
def tokens(chat_db: Path, chat_sites: Sites) -> dict[str, str]:
    return {
        role: make_token(chat_db, f"failover-{role}", role=role)
        for role in ("owner", "marketer", "agent", "read-only")
    }


Call = Callable[..., httpx.Response]


@pytest.fixture(scope="module")
def call(server: ServerProcess, tokens: dict[str, str]) -> Call:
    def run(method: str, site: str, role: str = "owner", **kw: Any) -> httpx.Response:
        url = f"{server.url}/api/sites/{site}/chat-settings"
        headers = {"Authorization": f"Bearer {tokens[role]}"}
        return httpx.request(method, url, headers=headers, **kw)

    return run


@pytest.fixture
def switch(call: Call) -> Callable[[str, bool], None]:
    def set_it(site: str, on: bool) -> None:
        answer = call("PUT", site, json={"handoff_on_failure": on})
        assert answer.status_code == 200, answer.text
        assert answer.json()["handoff_on_failure"] is on

    return set_it


def conversation(chat_db: Path, conversation_id: str) -> tuple[Any, ...]:
    found = rows(
        chat_db,
        "SELECT status, handoff_reason, handoff_department FROM conversations WHERE id = ?",
        conversation_id,
    )
    assert len(found) == 1
    return found[0]


def bot_kinds(chat_db: Path, conversation_id: str) -> list[str]:
    found = rows(
        chat_db,
        "SELECT kind FROM chat_messages WHERE conversation_id = ? AND role = 'bot'"
        " ORDER BY at_ms, rowid",
        conversation_id,
    )
    return [str(kind) for (kind,) in found]


async def rate(client: ChatClient, reply_id: str, rating: str = "down") -> int:
    client.seq += 1
    frame = {"t": "rate", "seq": client.seq, "at": int(time.time() * 1000), "reply": reply_id,
             "rating": rating}  # fmt: skip
    await client.send(frame)
    return client.seq


# -- the setting ---------------------------------------------------------------------------------


def test_the_setting_through_rest(
    call: Call, chat_db: Path, chat_sites: Sites, switch: Callable[[str, bool], None]
) -> None:
    key = chat_sites.other.public_key
    switch(key, False)
    assert call("GET", key).json() == {"site": key, "handoff_on_failure": False}
    assert call("GET", key, "read-only").status_code == 200
    switch(key, True)
    assert call("GET", key, "agent").json()["handoff_on_failure"] is True
    unchanged = call("PUT", key, json={})
    assert unchanged.status_code == 200 and unchanged.json()["handoff_on_failure"] is True

    unknown = call("PUT", key, json={"handoff_on_failure": False, "handoff_on_silence": True})
    assert unknown.status_code == 400
    assert unknown.json()["field"] == "handoff_on_silence"
    assert "handoff_on_silence" in unknown.json()["detail"]
    wrong = call("PUT", key, json={"handoff_on_failure": "yes"})
    assert (wrong.status_code, wrong.json()["field"]) == (400, "handoff_on_failure")
    for body in (b"[true]", b"not json"):
        refused = call("PUT", key, content=body)
        assert (refused.status_code, refused.json()["field"]) == (400, "$"), refused.text

    # Who may write: whoever may write the site's rules (owner, marketer).
    for role in ("read-only", "agent"):
        denied = call("PUT", key, role, json={"handoff_on_failure": False})
        assert denied.status_code == 403 and "rules.write" in denied.json()["detail"]
    assert call("GET", key).json()["handoff_on_failure"] is True  # nothing was changed
    marketer = call("PUT", key, "marketer", json={"handoff_on_failure": False})
    assert marketer.status_code == 200 and marketer.json()["handoff_on_failure"] is False
    assert rows(
        chat_db, "SELECT handoff_on_failure FROM chat_settings WHERE site_id = ?",
        chat_sites.other.id,
    ) == [(0,)]  # fmt: skip


def test_another_organisations_site_is_no_site(call: Call, chat_db: Path) -> None:
    elsewhere = make_site(chat_db, name="Elsewhere", origins=["https://e.example"], org="other")
    for method, kw in (("GET", {}), ("PUT", {"json": {"handoff_on_failure": True}})):
        answer = call(method, elsewhere.public_key, **kw)
        assert answer.status_code == 404, answer.text
    assert call("GET", "pk_doesnotexist").status_code == 404
    stored = "SELECT count(*) FROM chat_settings WHERE site_id = ?"
    assert rows(chat_db, stored, elsewhere.id) == [(0,)]


def test_the_setting_through_the_cli(
    call: Call, chat_db: Path, chat_sites: Sites, capsys: pytest.CaptureFixture[str]
) -> None:
    key, db = chat_sites.other.public_key, ["--db", str(chat_db)]
    assert main(["chat", "settings", "--site", key, "--handoff-on-failure", "off", *db]) == 0
    assert main(["chat", "settings", "--site", key, *db]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "handoff_on_failure: off"
    assert main(["chat", "settings", "--site", key, "--handoff-on-failure", "on", *db]) == 0
    assert capsys.readouterr().out.strip() == "handoff_on_failure: on"
    assert call("GET", key).json()["handoff_on_failure"] is True
    assert main(["chat", "settings", "--site", "pk_nosuchsite", *db]) == 2
    assert "no site" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["chat", "settings", "--site", key, "--handoff-on-failure", "maybe", *db])
    assert main(["chat", "settings", "--site", key, "--handoff-on-failure", "off", *db]) == 0


# -- a second "I don't know" in a row --------------------------------------------------------------


async def test_a_second_unknown_in_a_row_hands_off_once(
    server: ServerProcess, chat_sites: Sites, chat_db: Path, switch: Callable[[str, bool], None]
) -> None:
    switch(chat_sites.other.public_key, True)
    client, _ = await open_chat(server, chat_sites.other)
    try:
        first = await client.ask("Who won the football world cup in 2018?")
        second = await client.ask("What is the tallest mountain in Peru?")
        third = await client.ask("How many moons does Jupiter have?")
    finally:
        await client.close()
    assert first.end["kind"] == "unknown"
    assert second.end["kind"] == "handoff" and HANDOFF_EN in second.end["text"]
    assert second.streamed == second.end["text"]  # the unknown sentence was never shown
    assert third.end["kind"] == "unknown"  # waiting for a person already: not said again
    conv = first.start["conversation"]
    assert conversation(chat_db, conv) == (
        "human", "Two questions in a row the assistant could not answer.", "support"
    )  # fmt: skip
    assert bot_kinds(chat_db, conv) == ["unknown", "handoff", "unknown"]


async def test_without_the_setting_unknowns_stay_with_the_bot(
    server: ServerProcess, chat_sites: Sites, chat_db: Path, switch: Callable[[str, bool], None]
) -> None:
    switch(chat_sites.other.public_key, False)
    client, _ = await open_chat(server, chat_sites.other)
    try:
        replies = [await client.ask(q) for q in ("Who is the king of Spain?", "What is pi?")]
    finally:
        await client.close()
    assert [r.end["kind"] for r in replies] == ["unknown", "unknown"]
    conv = replies[0].start["conversation"]
    assert conversation(chat_db, conv) == ("bot", None, None)
    assert bot_kinds(chat_db, conv) == ["unknown", "unknown"]


# -- a thumbs-down -------------------------------------------------------------------------------


async def test_a_thumbs_down_hands_off_and_says_so_once(
    server: ServerProcess, chat_sites: Sites, chat_db: Path, switch: Callable[[str, bool], None]
) -> None:
    switch(chat_sites.help.public_key, True)
    client, _ = await open_chat(server, chat_sites.help)
    try:
        answer = await client.ask("How long can I pause my membership?")
        assert answer.end["kind"] == "answer", answer.end
        liked = await rate(client, answer.end["id"], "up")
        assert [f["t"] for f in await quiet(client)] == ["ack"]  # a thumbs-up changes nothing
        seq = await rate(client, answer.end["id"])
        told, others = await client.reply()
        assert {"t": "ack", "seq": [seq]} in others
        await rate(client, answer.end["id"])  # again, and on the sentence itself: once only
        await rate(client, told.end["id"])
        assert [f["t"] for f in await quiet(client)] == ["ack", "ack"]
    finally:
        await client.close()
    assert liked < seq
    assert told.end["kind"] == "handoff" and HANDOFF_EN in told.end["text"]
    assert told.start["in_reply_to"] == 1 and told.streamed == told.end["text"]
    conv = answer.start["conversation"]
    assert told.start["conversation"] == conv
    assert conversation(chat_db, conv) == (
        "human", "The visitor marked an answer as not helpful.", "support"
    )  # fmt: skip
    assert bot_kinds(chat_db, conv) == ["answer", "handoff"]
    # The sentence is a turn of the conversation: a new page shows it.
    again, _ = await open_chat(server, chat_sites.help, visitor=client.visitor, key=client.key)
    try:
        history, _ = await until(again, "history")
    finally:
        await again.close()
    assert history["messages"][-1]["text"] == told.end["text"]


async def test_without_the_setting_a_thumbs_down_is_only_a_rating(
    server: ServerProcess, chat_sites: Sites, chat_db: Path, switch: Callable[[str, bool], None]
) -> None:
    switch(chat_sites.help.public_key, False)
    client, _ = await open_chat(server, chat_sites.help)
    try:
        answer = await client.ask("How long can I pause my membership?")
        await rate(client, answer.end["id"])
        assert [f["t"] for f in await quiet(client)] == ["ack"]
    finally:
        await client.close()
    conv = answer.start["conversation"]
    assert conversation(chat_db, conv) == ("bot", None, None)
    assert bot_kinds(chat_db, conv) == ["answer"]
    stored = "SELECT rating FROM chat_ratings WHERE message_id = ?"
    assert rows(chat_db, stored, answer.end["id"]) == [("down",)]


# -- a failed action -----------------------------------------------------------------------------


Frame = dict[str, Any]


async def refund_too_much(server: ServerProcess, sites: Sites) -> tuple[str, Frame, list[Frame]]:
    """Ask for more than is left of the demo member's last charge and confirm it: the API
    answers 409. The conversation, the result and every frame within two seconds after it."""
    client, _ = await open_chat(server, sites.help, identity=identity(sites))
    try:
        reply, _ = await client.reply_to("My jacket arrived torn, I want a refund of €49")
        card, _ = await client.recv_until("action", 20)
        await confirm(client, card["token"])
        result, _ = await until(client, "action_result")
        after = await quiet(client, 2.0)
    finally:
        await client.close()
    assert reply.end["kind"] == "action", reply.end
    return reply.start["conversation"], result, after


async def test_a_failed_action_hands_off_after_its_failure(
    server: ServerProcess, chat_sites: Sites, chat_db: Path, switch: Callable[[str, bool], None]
) -> None:
    switch(chat_sites.help.public_key, True)
    conv, result, after = await refund_too_much(server, chat_sites)
    assert result["state"] == "failed", result
    ends = [f for f in after if f["t"] == "reply_end"]
    assert [f["t"] for f in after] == ["reply_start", "reply_delta", "reply_end"]
    assert ends[0]["kind"] == "handoff" and HANDOFF_EN in ends[0]["text"]
    assert conversation(chat_db, conv) == (
        "human", "An action failed: refund_damaged_item.", "support"
    )  # fmt: skip
    assert bot_kinds(chat_db, conv) == ["action", "action_result", "handoff"]


async def test_without_the_setting_a_failed_action_only_says_it_failed(
    server: ServerProcess, chat_sites: Sites, chat_db: Path, switch: Callable[[str, bool], None]
) -> None:
    switch(chat_sites.help.public_key, False)
    conv, result, after = await refund_too_much(server, chat_sites)
    assert result["state"] == "failed", result
    assert after == []
    assert conversation(chat_db, conv) == ("bot", None, None)
    assert bot_kinds(chat_db, conv) == ["action", "action_result"]
