"""A live conversation with a person through the Client: the person's frames reach the page
as sent (malformed ones as an error only), and the visitor's typing goes out throttled, at
once or never — never numbered, stored or resent."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bpract.wire import frames as server
from bpract_client import protocol
from bpract_client.client import TYPING_EVERY_MS
from bpract_client.protocol import ProtocolError, parse_server_frame
from unit.client.support import SECOND, T0, ev
from unit.client.test_chat_frames import connected
from unit.client.test_client import Harness, harness

ANA = "Ana from Support"


@pytest.mark.parametrize(
    "frame",
    [
        server.AgentJoined(conversation="c_1", name=ANA, at=T0),
        server.AgentLeft(conversation="c_1", name=ANA, to="bot", at=T0 + 1),
        server.AgentLeft(conversation="c_1", name=ANA, to="queue", at=T0 + 2),
        server.AgentLeft(conversation="c_1", name=ANA, to="resolved", at=T0 + 3),
        server.AgentTyping(name=ANA, on=True),
        server.AgentTyping(name=ANA, on=False),
        server.AgentMessage(
            id="am_1", conversation="c_1", name=ANA, text="<b>Hi</b>, I can help.", at=T0
        ),
        server.ReplyDrop(id="r_1"),
        server.History(
            conversation="c_1",
            messages=[
                server.HistoryMessage(id="m_1", role="visitor", text="Hello?", at=T0),
                server.HistoryMessage(id="am_1", role="agent", text="Hi!", at=T0 + 1, name=ANA),
            ],
        ),
    ],
)
def test_the_persons_frames_reach_the_page_as_sent(frame: server.ServerFrame) -> None:
    h = connected()
    h.client.on_text(server.encode(frame).decode())
    posted = [p for p in h.take_posts() if p["type"] != "persist"]
    expected = json.loads(server.encode(frame))
    assert posted == [{"type": expected.pop("t"), **expected}]


def test_every_new_server_frame_is_a_chat_frame() -> None:
    new = {"reply_drop", "agent_joined", "agent_left", "agent_typing", "agent_message"}
    assert new <= protocol.CHAT_FRAME_TYPES <= protocol.SERVER_FRAME_TYPES


LONG_NAME = "x" * (protocol.MAX_NAME_CHARS + 1)
LONG_TEXT = "x" * (protocol.MAX_AGENT_TEXT_CHARS + 1)


@pytest.mark.parametrize(
    ("frame", "field"),
    [
        ({"t": "reply_drop"}, "reply_drop.id"),
        ({"t": "reply_drop", "id": ""}, "reply_drop.id"),
        ({"t": "agent_joined", "conversation": "c_1", "at": T0}, "agent_joined.name"),
        ({"t": "agent_joined", "conversation": "c_1", "name": "", "at": T0}, "agent_joined.name"),
        (
            {"t": "agent_joined", "conversation": "c_1", "name": LONG_NAME, "at": T0},
            "agent_joined.name",
        ),
        ({"t": "agent_joined", "name": ANA, "at": T0}, "agent_joined.conversation"),
        ({"t": "agent_joined", "conversation": "c_1", "name": ANA}, "agent_joined.at"),
        (
            {"t": "agent_joined", "conversation": "c_1", "name": ANA, "at": True},
            "agent_joined.at",
        ),
        (
            {"t": "agent_left", "conversation": "c_1", "name": ANA, "at": T0, "to": "lunch"},
            "agent_left.to",
        ),
        ({"t": "agent_left", "conversation": "c_1", "name": ANA, "at": T0}, "agent_left.to"),
        ({"t": "agent_typing", "name": ANA, "on": "yes"}, "agent_typing.on"),
        ({"t": "agent_typing", "name": 7, "on": True}, "agent_typing.name"),
        (
            {"t": "agent_message", "conversation": "c_1", "name": ANA, "text": "Hi", "at": T0},
            "agent_message.id",
        ),
        (
            {"t": "agent_message", "id": "am_1", "conversation": "c_1", "name": ANA, "at": T0},
            "agent_message.text",
        ),
        (
            {
                "t": "agent_message",
                "id": "am_1",
                "conversation": "c_1",
                "name": ANA,
                "text": LONG_TEXT,
                "at": T0,
            },
            "agent_message.text",
        ),
        (
            {"t": "agent_message", "id": "am_1", "conversation": "c_1", "text": "Hi", "at": T0},
            "agent_message.name",
        ),
    ],
)
def test_malformed_live_frames_are_refused(frame: dict[str, Any], field: str) -> None:
    with pytest.raises(ProtocolError, match=field):
        parse_server_frame(json.dumps(frame))


def test_a_malformed_agent_message_reaches_the_page_as_an_error_only() -> None:
    h = connected()
    h.server({"t": "agent_message", "id": "am_1", "conversation": "c_1", "name": ANA, "at": T0})
    posted = h.take_posts()
    assert [p["type"] for p in posted] == ["error"]
    assert posted[0]["code"] == "bad_server_frame"


def typing(h: Harness, on: object) -> None:
    h.events(ev("typing", h.now(), on=on))


def test_typing_on_goes_out_once_per_interval_and_off_once() -> None:
    h = connected()
    h.transport.take()
    for _ in range(5):  # keystrokes within the interval: one frame
        typing(h, True)
        h.advance(TYPING_EVERY_MS // 5 - 1)
    assert h.transport.take() == [{"t": "typing", "on": True}]
    h.advance(5)  # the interval is over while still typing: said again
    typing(h, True)
    assert h.transport.take() == [{"t": "typing", "on": True}]
    typing(h, False)
    typing(h, False)
    assert h.transport.take() == [{"t": "typing", "on": False}]
    typing(h, True)  # typing again right after stopping is news
    assert h.transport.take() == [{"t": "typing", "on": True}]


def test_off_without_on_sends_nothing() -> None:
    h = connected()
    h.transport.take()
    typing(h, False)
    assert h.transport.take() == []


def test_typing_is_sent_as_a_direct_message_too() -> None:
    h = connected()
    h.transport.take()
    h.client.on_main_message({"type": "typing", "on": True})
    assert h.transport.take() == [{"t": "typing", "on": True}]


def test_typing_is_never_numbered_stored_or_persisted() -> None:
    h = connected()
    h.transport.take()
    h.take_posts()
    typing(h, True)
    [frame] = h.transport.take()
    assert "seq" not in frame and "at" not in frame
    assert len(h.client.outbox) == 0
    assert h.posts("persist") == []
    assert server.decode_client(protocol.encode(frame)) == server.Typing(on=True)


@pytest.mark.parametrize("on", ["yes", None, 1, {}])
def test_typing_without_a_boolean_is_dropped(on: object) -> None:
    h = connected()
    h.transport.take()
    typing(h, on)
    assert h.transport.take() == []


def test_typing_while_not_connected_is_dropped_not_queued_for_the_next_socket() -> None:
    h = harness()
    h.client.start()
    typing(h, True)  # socket opening
    assert h.transport.take() == []
    assert [f["t"] for f in h.connect()] == ["hello"]  # and nothing after it
    assert len(h.client.outbox) == 0


def test_a_reconnect_forgets_the_typing_state() -> None:
    h = connected()
    h.transport.take()
    typing(h, True)
    assert h.transport.take() == [{"t": "typing", "on": True}]
    h.client.on_close(1006, "lost")
    typing(h, False)  # while away: nothing to send it on
    h.scheduled.pop()[1]()
    assert [f["t"] for f in h.connect()] == ["hello"]
    typing(h, False)  # the new socket never heard "on": no "off" either
    assert h.transport.take() == []
    typing(h, True)  # and "on" is news at once, whatever the interval
    assert h.transport.take() == [{"t": "typing", "on": True}]


def test_a_stale_typing_event_is_dropped() -> None:
    h = connected()
    h.transport.take()
    h.events(ev("typing", h.now() - TYPING_EVERY_MS - SECOND, on=True))
    assert h.transport.take() == []
