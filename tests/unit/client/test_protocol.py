"""Client frame builders and the server frame parser (docs/protocol.md)."""

from __future__ import annotations

import json

import pytest

from bpract_client import protocol
from bpract_client.protocol import ProtocolError, parse_server_frame


def test_hello_frame() -> None:
    frame = protocol.hello(
        site="pk_1",
        visitor="v_1",
        stream="s_1",
        page={"url": "https://a.example/", "title": "A", "referrer": ""},
        device="desktop",
        lang="en-GB",
        tz="Europe/Paris",
        identity={"user_id": "42", "user_hash": "ff", "traits": {}},
        key="k_1",
    )
    assert frame == {
        "t": "hello",
        "v": protocol.PROTOCOL_VERSION,
        "site": "pk_1",
        "visitor": "v_1",
        "stream": "s_1",
        "engine": "pyodide",
        "page": {"url": "https://a.example/", "title": "A", "referrer": ""},
        "device": "desktop",
        "lang": "en-GB",
        "tz": "Europe/Paris",
        "identity": {"user_id": "42", "user_hash": "ff", "traits": {}},
        "key": "k_1",
    }


def test_other_builders() -> None:
    assert protocol.outcome(at=1, outreach="o_1", kind="clicked") == {
        "t": "outcome",
        "at": 1,
        "outreach": "o_1",
        "kind": "clicked",
    }
    assert protocol.message(at=2, text="hi") == {
        "t": "message",
        "at": 2,
        "text": "hi",
        "outreach": None,
    }
    assert protocol.identify(at=3, user_id="4", user_hash="aa") == {
        "t": "identify",
        "at": 3,
        "user_id": "4",
        "user_hash": "aa",
        "traits": {},
    }
    assert protocol.event(at=5, raw={"k": "act", "at": 5}) == {
        "t": "event",
        "at": 5,
        "event": {"k": "act", "at": 5},
    }
    assert protocol.ping() == {"t": "ping"}


def test_outcome_refuses_unknown_kinds() -> None:
    with pytest.raises(ValueError, match="outcome kind"):
        protocol.outcome(at=1, outreach="o_1", kind="liked")


def test_encode_is_compact_and_refuses_nan() -> None:
    assert protocol.encode({"t": "ping", "x": "é"}) == '{"t":"ping","x":"é"}'
    with pytest.raises(ValueError):
        protocol.encode({"t": "signal", "x": float("nan")})


@pytest.mark.parametrize(
    "frame",
    [
        {"t": "welcome", "v": 1, "stored_seq": 0, "ruleset": {"rules": []}, "config": {}},
        {"t": "ack", "seq": [1, 2]},
        {"t": "rules", "ruleset": {"version": 2}},
        {"t": "outreach", "id": "o_1", "rule": "r", "message": "Hi", "cta": None, "reason": ""},
        {"t": "error", "code": "rate_limited", "message": "slow down", "seq": 4},
        {"t": "pong"},
    ],
)
def test_parse_server_frames(frame: dict[str, object]) -> None:
    assert parse_server_frame(json.dumps(frame)) == frame


def test_parse_fills_optional_fields() -> None:
    assert parse_server_frame('{"t":"error","code":"x"}')["seq"] is None
    welcome = parse_server_frame('{"t":"welcome","stored_seq":3,"ruleset":{}}')
    assert welcome["config"] == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[1]", "object"),
        ('{"t": "hello"}', "unknown frame type"),
        ('{"x": 1}', "unknown frame type"),
        ('{"t": 5}', "unknown frame type"),
        ('{"t": "welcome", "ruleset": {}}', "welcome.stored_seq"),
        ('{"t": "welcome", "stored_seq": true, "ruleset": {}}', "welcome.stored_seq"),
        ('{"t": "welcome", "stored_seq": 1, "ruleset": []}', "welcome.ruleset"),
        ('{"t": "welcome", "stored_seq": 1, "ruleset": {}, "config": 1}', "welcome.config"),
        ('{"t": "ack", "seq": 3}', "ack.seq"),
        ('{"t": "ack", "seq": ["3"]}', "ack.seq"),
        ('{"t": "rules"}', "rules.ruleset"),
        ('{"t": "outreach", "message": "x"}', "outreach.id"),
        ('{"t": "outreach", "id": "o_1"}', "outreach.message"),
        ('{"t": "error"}', "error.code"),
        ('{"t": "error", "code": "x", "seq": "1"}', "error.seq"),
    ],
)
def test_parse_refuses_what_is_not_a_server_frame(text: str, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_server_frame(text)
