"""Chat through the Client: reply and history frames reach the page, messages and ratings go out."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bpract.wire import frames as server
from bpract_client import protocol
from bpract_client.protocol import ProtocolError, parse_server_frame
from unit.client.support import T0, ev
from unit.client.test_client import Harness, harness

CITATION = {"n": 1, "title": "Returns", "url": "https://shop.example/help/returns", "section": ""}


def connected() -> Harness:
    h = harness()
    h.client.start()
    h.connect()
    h.take_posts()
    return h


def test_streamed_reply_frames_are_forwarded_in_order() -> None:
    h = connected()
    frames: list[dict[str, Any]] = [
        {"t": "reply_start", "id": "r_1", "conversation": "c_1", "in_reply_to": 3},
        {"t": "reply_delta", "id": "r_1", "text": "You can "},
        {"t": "reply_reset", "id": "r_1"},
        {"t": "reply_delta", "id": "r_1", "text": "Returns are free [1]."},
        {
            "t": "reply_end",
            "id": "r_1",
            "text": "Returns are free [1].",
            "citations": [CITATION],
            "kind": "answer",
            "offline": True,
        },
    ]
    for frame in frames:
        h.server(frame)
    chat = [p for p in h.take_posts() if p["type"] != "persist"]
    assert chat == [{"type": f["t"], **{k: v for k, v in f.items() if k != "t"}} for f in frames]


def test_history_is_forwarded_with_its_messages() -> None:
    h = connected()
    messages = [
        {"id": "m_1", "role": "visitor", "text": "Returns?", "at": T0, "citations": []},
        {"id": "r_1", "role": "bot", "text": "Free [1].", "at": T0 + 5, "citations": [CITATION]},
    ]
    h.server({"t": "history", "conversation": "c_1", "messages": messages})
    assert h.posts("history") == [{"type": "history", "conversation": "c_1", "messages": messages}]


def test_reply_end_defaults_are_filled_in() -> None:
    frame = parse_server_frame('{"t": "reply_end", "id": "r_1", "text": "Hi"}')
    assert (frame["citations"], frame["kind"], frame["offline"]) == ([], "answer", False)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"t": "reply_start", "conversation": "c_1"}', "reply_start.id"),
        ('{"t": "reply_start", "id": "r_1", "in_reply_to": "3"}', "reply_start.in_reply_to"),
        ('{"t": "reply_delta", "id": "r_1", "text": 5}', "reply_delta.text"),
        ('{"t": "reply_reset", "id": ""}', "reply_reset.id"),
        ('{"t": "reply_end", "id": "r_1", "text": "x", "citations": ["a"]}', "citations"),
        ('{"t": "reply_end", "id": "r_1", "text": "x", "kind": "guess"}', "reply_end.kind"),
        ('{"t": "reply_end", "id": "r_1", "text": "x", "offline": "no"}', "reply_end.offline"),
        ('{"t": "history", "conversation": "c_1", "messages": {}}', "history.messages"),
        ('{"t": "history", "messages": []}', "history.conversation"),
    ],
)
def test_malformed_chat_frames_are_refused(text: str, field: str) -> None:
    with pytest.raises(ProtocolError, match=field):
        parse_server_frame(text)


def test_a_malformed_chat_frame_reaches_the_page_as_an_error_only() -> None:
    h = connected()
    h.client.on_text('{"t": "reply_delta", "id": "r_1"}')
    posted = h.take_posts()
    assert [p["type"] for p in posted] == ["error"]
    assert posted[0]["code"] == "bad_server_frame"


def test_a_message_is_reported_sent_once_the_server_acks_it() -> None:
    h = connected()
    h.events(ev("message", T0 + 1, text="Do you ship to Norway?", outreach=None, id="l_1"))
    [frame] = h.transport.take()
    assert frame["t"] == "message" and "id" not in frame  # the page's id stays in the browser
    assert h.posts("sent") == []
    h.server({"t": "ack", "seq": [frame["seq"]]})
    assert h.posts("sent") == [{"type": "sent", "id": "l_1", "seq": frame["seq"]}]
    h.server({"t": "ack", "seq": [frame["seq"]]})  # a repeated ack reports nothing new
    assert len(h.posts("sent")) == 1


def test_a_message_stored_before_a_reconnect_is_reported_by_the_welcome() -> None:
    h = connected()
    h.events(ev("message", T0 + 1, text="Hello?", id="l_2"))
    [frame] = h.transport.take()
    h.client.on_close(1006, "lost")
    h.scheduled.pop()[1]()
    h.connect(stored_seq=frame["seq"])
    assert h.posts("sent") == [{"type": "sent", "id": "l_2", "seq": frame["seq"]}]


def test_a_refused_message_is_reported_unsent() -> None:
    h = connected()
    h.events(ev("message", T0 + 1, text="Hi", id="l_3"))
    [frame] = h.transport.take()
    h.server({"t": "error", "code": "invalid", "message": "text", "seq": frame["seq"]})
    assert h.posts("unsent") == [{"type": "unsent", "id": "l_3", "seq": frame["seq"]}]
    assert h.posts("sent") == []


def test_a_ticket_is_sent_and_reported_sent_on_its_ack() -> None:
    h = connected()
    h.events(ev("ticket", T0 + 1, email=" ana@example.com ", text="Is it in stock?", id="l_t"))
    [frame] = h.transport.take()
    assert (frame["t"], frame["email"], frame["text"]) == (
        "ticket", "ana@example.com", "Is it in stock?"
    )  # fmt: skip
    assert "id" not in frame
    h.server({"t": "ack", "seq": [frame["seq"]]})
    assert h.posts("sent") == [{"type": "sent", "id": "l_t", "seq": frame["seq"]}]


@pytest.mark.parametrize(
    "fields", [{"email": "", "text": "Hi"}, {"email": "nobody", "text": "Hi"},
               {"email": "a@b.co", "text": "  "}, {"email": 5, "text": "Hi"}],
)  # fmt: skip
def test_a_ticket_without_an_address_or_a_question_is_not_sent(fields: dict[str, Any]) -> None:
    h = connected()
    h.events(ev("ticket", T0 + 1, **fields, id="l_x"))
    assert h.transport.take() == []


def test_a_ticket_reply_is_forwarded() -> None:
    frame = parse_server_frame('{"t": "reply_end", "id": "r_1", "text": "Leave", "kind": "ticket"}')
    assert frame["kind"] == "ticket"


def test_ratings_become_rate_frames_from_events_and_direct_messages() -> None:
    h = connected()
    h.events(ev("rate", T0 + 1, reply="r_1", rating="down"))
    h.client.on_main_message({"type": "rate", "reply": "r_1", "rating": "up", "at": T0 + 2})
    sent = h.transport.take()
    assert [(f["t"], f["reply"], f["rating"], f["comment"]) for f in sent] == [
        ("rate", "r_1", "down", None),
        ("rate", "r_1", "up", None),
    ]
    assert [f["at"] for f in sent] == [T0 + 1, T0 + 2]
    assert [f["seq"] for f in sent] == [1, 2]


@pytest.mark.parametrize(
    "event",
    [
        {"reply": "r_1", "rating": "meh"},
        {"reply": "", "rating": "up"},
        {"rating": "up"},
        {"reply": 7, "rating": "down"},
    ],
)
def test_bad_ratings_are_not_sent(event: dict[str, Any]) -> None:
    h = connected()
    h.client.on_main_message({"type": "rate", **event})
    assert h.transport.take() == []


def test_rate_builder_refuses_unknown_ratings() -> None:
    assert protocol.rate(at=1, reply="r_1", rating="up", comment="thanks") == {
        "t": "rate",
        "at": 1,
        "reply": "r_1",
        "rating": "up",
        "comment": "thanks",
    }
    with pytest.raises(ValueError, match="rating"):
        protocol.rate(at=1, reply="r_1", rating="sideways")


def test_rate_frames_decode_on_the_server() -> None:
    h = connected()
    h.client.on_main_message(
        {"type": "rate", "reply": "r_1", "rating": "down", "comment": "x" * 3000}
    )
    [frame] = h.transport.take()
    decoded = server.decode_client(protocol.encode(frame))
    assert isinstance(decoded, server.Rate)
    assert (decoded.reply, decoded.rating, decoded.seq) == ("r_1", "down", 1)
    assert decoded.comment is not None and len(decoded.comment) <= 2000


@pytest.mark.parametrize(
    "frame",
    [
        server.ReplyStart(id="r_1", conversation="c_1", in_reply_to=4),
        server.ReplyDelta(id="r_1", text="Free "),
        server.ReplyReset(id="r_1"),
        server.ReplyEnd(
            id="r_1",
            text="Free [1].",
            citations=[server.Citation(n=1, title="Returns", url=None)],
            kind="unknown",
            offline=True,
        ),
        server.History(
            conversation="c_1",
            messages=[server.HistoryMessage(id="m_1", role="visitor", text="Hi", at=1)],
        ),
    ],
)
def test_server_chat_frames_reach_the_page(frame: server.ServerFrame) -> None:
    h = connected()
    h.client.on_text(server.encode(frame).decode())
    posted = [p for p in h.take_posts() if p["type"] != "persist"]
    expected = json.loads(server.encode(frame))
    assert posted == [{"type": expected.pop("t"), **expected}]
