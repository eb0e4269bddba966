"""Visitor protocol v1 (docs/protocol.md) as msgspec tagged unions, with one decoder and encoder."""

from __future__ import annotations

from enum import IntEnum
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta

__all__ = [
    "ALL_ERRORS",
    "PROTOCOL_VERSION",
    "Ack",
    "Citation",
    "ClientFrame",
    "CloseCode",
    "Config",
    "Cta",
    "Error",
    "Event",
    "Fire",
    "Hello",
    "History",
    "HistoryMessage",
    "Identify",
    "Identity",
    "Message",
    "Outcome",
    "Outreach",
    "Page",
    "Ping",
    "Pong",
    "Rate",
    "ReplyDelta",
    "ReplyEnd",
    "ReplyReset",
    "ReplyStart",
    "Rules",
    "SeqFrame",
    "ServerFrame",
    "Signal",
    "Welcome",
    "ack_text",
    "decode_client",
    "encode",
]

PROTOCOL_VERSION: Final = 1
#: Longest visitor chat message, in characters (a longer one is refused as ``invalid``).
MAX_MESSAGE_CHARS: Final = 2000
SUPPORTED_VERSIONS: Final = (1,)

# Error codes of recoverable refusals (the ``code`` of an ``error`` frame).
MALFORMED: Final = "malformed"
UNKNOWN_TYPE: Final = "unknown_type"
INVALID: Final = "invalid"
UNKNOWN_RULE: Final = "unknown_rule"
IDENTITY_REJECTED: Final = "identity_rejected"
RATE_LIMITED: Final = "rate_limited"
ALL_ERRORS: Final = (
    MALFORMED,
    UNKNOWN_TYPE,
    INVALID,
    UNKNOWN_RULE,
    IDENTITY_REJECTED,
    RATE_LIMITED,
)


class CloseCode(IntEnum):
    """Fatal refusals: the socket closes with one of these codes (the name is the reason)."""

    too_big = 1009
    internal = 1011
    bad_hello = 4400
    unsupported_version = 4401
    forbidden_origin = 4403
    unknown_site = 4404
    hello_timeout = 4408
    flood = 4429


Id = Annotated[str, Meta(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Seq = Annotated[int, Meta(ge=1, le=2**53)]
Millis = Annotated[int, Meta(ge=0, le=2**53)]
Short = Annotated[str, Meta(max_length=256)]
Url = Annotated[str, Meta(max_length=2048)]
Kind = Literal["shown", "opened", "clicked", "dismissed", "replied", "converted"]
Device = Literal["desktop", "mobile", "tablet"]


class _Frame(msgspec.Struct, frozen=True, kw_only=True, tag_field="t"):
    pass


class Page(msgspec.Struct, frozen=True, kw_only=True):
    url: Url = ""
    title: Short = ""
    referrer: Url = ""


class Identity(msgspec.Struct, frozen=True, kw_only=True):
    user_id: Short
    user_hash: Short
    traits: dict[str, Any] | None = None


# Client → server


class Hello(_Frame, frozen=True, kw_only=True, tag="hello"):
    v: int
    site: Id
    visitor: Id
    stream: Id
    engine: Literal["pyodide", "server"] = "pyodide"
    page: Page | None = None
    device: Device = "desktop"
    lang: Short | None = None
    tz: Short | None = None
    identity: Identity | None = None


class Signal(_Frame, frozen=True, kw_only=True, tag="signal"):
    seq: Seq
    at: Millis
    session: Id | None = None
    name: Annotated[str, Meta(min_length=1, max_length=64)]
    data: dict[str, Any] = {}


class Fire(_Frame, frozen=True, kw_only=True, tag="fire"):
    seq: Seq
    at: Millis
    session: Id | None = None
    rule: Annotated[str, Meta(min_length=1, max_length=64)]
    rule_version: Annotated[int, Meta(ge=0)]
    context: dict[str, Any] = {}


class Outcome(_Frame, frozen=True, kw_only=True, tag="outcome"):
    seq: Seq
    at: Millis
    outreach: Id
    kind: Kind


class Event(_Frame, frozen=True, kw_only=True, tag="event"):
    seq: Seq
    at: Millis
    event: dict[str, Any]


class Identify(_Frame, frozen=True, kw_only=True, tag="identify"):
    seq: Seq
    at: Millis
    user_id: Short
    user_hash: Short
    traits: dict[str, Any] | None = None


class Message(_Frame, frozen=True, kw_only=True, tag="message"):
    seq: Seq
    at: Millis
    text: Annotated[str, Meta(min_length=1, max_length=MAX_MESSAGE_CHARS)]
    outreach: Id | None = None


class Rate(_Frame, frozen=True, kw_only=True, tag="rate"):
    seq: Seq
    at: Millis
    reply: Id
    rating: Literal["up", "down"]
    comment: Annotated[str, Meta(max_length=2000)] | None = None


class Ping(_Frame, frozen=True, kw_only=True, tag="ping"):
    pass


SeqFrame = Signal | Fire | Outcome | Event | Identify | Message | Rate
ClientFrame = Hello | Signal | Fire | Outcome | Event | Identify | Message | Rate | Ping


# Server → client


class Config(msgspec.Struct, frozen=True, kw_only=True):
    time_scale: float = 1.0
    raw_events: bool = False


class Welcome(_Frame, frozen=True, kw_only=True, tag="welcome"):
    v: int = PROTOCOL_VERSION
    visitor: str
    stream: str
    stored_seq: int
    ruleset: dict[str, Any]
    config: Config


class Ack(_Frame, frozen=True, kw_only=True, tag="ack"):
    seq: list[int]


class Rules(_Frame, frozen=True, kw_only=True, tag="rules"):
    ruleset: dict[str, Any]


class Cta(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    url: str | None = None


class Outreach(_Frame, frozen=True, kw_only=True, tag="outreach"):
    id: str
    rule: str
    message: str
    cta: Cta | None = None
    reason: str = ""


class Error(_Frame, frozen=True, kw_only=True, tag="error"):
    code: str
    message: str
    seq: int | None = None


class Pong(_Frame, frozen=True, kw_only=True, tag="pong"):
    pass


class ReplyStart(_Frame, frozen=True, kw_only=True, tag="reply_start"):
    id: str
    conversation: str
    in_reply_to: int


class ReplyDelta(_Frame, frozen=True, kw_only=True, tag="reply_delta"):
    id: str
    text: str


class ReplyReset(_Frame, frozen=True, kw_only=True, tag="reply_reset"):
    id: str


class Citation(msgspec.Struct, frozen=True, kw_only=True):
    n: int
    title: str
    url: str | None = None
    section: str = ""


class ReplyEnd(_Frame, frozen=True, kw_only=True, tag="reply_end"):
    id: str
    text: str
    citations: list[Citation] = []
    kind: Literal["answer", "unknown", "handoff"] = "answer"
    offline: bool = False


class HistoryMessage(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    role: Literal["visitor", "bot", "agent"]
    text: str
    at: int
    citations: list[Citation] = []


class History(_Frame, frozen=True, kw_only=True, tag="history"):
    conversation: str
    messages: list[HistoryMessage]


ServerFrame = (
    Welcome
    | Ack
    | Rules
    | Outreach
    | Error
    | Pong
    | ReplyStart
    | ReplyDelta
    | ReplyReset
    | ReplyEnd
    | History
)

_decoder: msgspec.json.Decoder[ClientFrame] = msgspec.json.Decoder(ClientFrame)
_encoder = msgspec.json.Encoder()


def decode_client(data: str | bytes) -> ClientFrame:
    """Decode one client frame; raises ``msgspec.DecodeError`` / ``msgspec.ValidationError``."""
    return _decoder.decode(data)


def encode(frame: ServerFrame) -> bytes:
    """JSON bytes of one server frame."""
    return _encoder.encode(frame)


def ack_text(seq: int) -> str:
    """The ``ack`` of one seq as text: ``encode(Ack(seq=[seq]))`` without building the frame."""
    return f'{{"t":"ack","seq":[{seq}]}}'
