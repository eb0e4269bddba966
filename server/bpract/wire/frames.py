"""The frames of visitor protocol v1 (docs/protocol.md) as msgspec tagged unions."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from bpract.wire.bounds import check_free, check_time
from bpract.wire.codes import MAX_MESSAGE_CHARS, MAX_SAFE_INT, PROTOCOL_VERSION

__all__ = [
    "CLIENT_FRAMES",
    "SERVER_FRAMES",
    "Ack",
    "ActionCard",
    "ActionDetail",
    "ActionField",
    "ActionResult",
    "AgentJoined",
    "AgentLeft",
    "AgentMessage",
    "AgentTyping",
    "Citation",
    "ClientFrame",
    "Config",
    "Confirm",
    "Cta",
    "Decline",
    "Email",
    "Error",
    "Event",
    "Fire",
    "Handoff",
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
    "ReplyDrop",
    "ReplyEnd",
    "ReplyReset",
    "ReplyStart",
    "Rules",
    "SeqFrame",
    "ServerFrame",
    "Signal",
    "Ticket",
    "Typing",
    "Welcome",
    "ack_text",
    "decode_client",
    "decode_with",
    "encode",
    "seq_of",
    "tag_of",
]

Id = Annotated[str, Meta(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Seq = Annotated[int, Meta(ge=1, le=MAX_SAFE_INT)]
Millis = Annotated[int, Meta(ge=0, le=MAX_SAFE_INT)]
Version = Annotated[int, Meta(ge=0, le=MAX_SAFE_INT)]
Short = Annotated[str, Meta(max_length=256)]
Url = Annotated[str, Meta(max_length=2048)]
Kind = Literal["shown", "opened", "clicked", "dismissed", "replied", "converted"]
Device = Literal["desktop", "mobile", "tablet"]


class Frame(msgspec.Struct, frozen=True, kw_only=True, tag_field="t"):
    """A frame of either direction; its ``t`` is the class's tag."""


class SeqFrame(Frame, frozen=True, kw_only=True):
    """A client frame the outbox numbers: stored once, acknowledged after commit."""

    seq: Seq
    at: Millis


class Page(msgspec.Struct, frozen=True, kw_only=True):
    url: Url = ""
    title: Short = ""
    referrer: Url = ""


class Identity(msgspec.Struct, frozen=True, kw_only=True):
    user_id: Short
    user_hash: Short
    traits: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        check_free("traits", self.traits)


# Client → server


class Hello(Frame, frozen=True, kw_only=True, tag="hello"):
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
    key: Annotated[str, Meta(max_length=64)] | None = None
    """The visitor key a ``welcome`` gave this visitor id (docs/protocol.md)."""


class Signal(SeqFrame, frozen=True, kw_only=True, tag="signal"):
    session: Id | None = None
    name: Annotated[str, Meta(min_length=1, max_length=64)]
    data: dict[str, Any] = {}

    def __post_init__(self) -> None:
        check_free("data", self.data)


class Fire(SeqFrame, frozen=True, kw_only=True, tag="fire"):
    session: Id | None = None
    rule: Annotated[str, Meta(min_length=1, max_length=64)]
    rule_version: Version
    context: dict[str, Any] = {}

    def __post_init__(self) -> None:
        check_free("context", self.context)


class Outcome(SeqFrame, frozen=True, kw_only=True, tag="outcome"):
    outreach: Id
    kind: Kind


class Event(SeqFrame, frozen=True, kw_only=True, tag="event"):
    event: dict[str, Any]

    def __post_init__(self) -> None:
        check_free("event", self.event)
        check_time("event.at", self.event.get("at"))  # the server-side engine's clock


class Identify(SeqFrame, frozen=True, kw_only=True, tag="identify"):
    user_id: Short
    user_hash: Short
    traits: dict[str, Any] | None = None

    def __post_init__(self) -> None:
        check_free("traits", self.traits)


class Message(SeqFrame, frozen=True, kw_only=True, tag="message"):
    text: Annotated[str, Meta(min_length=1, max_length=MAX_MESSAGE_CHARS)]
    outreach: Id | None = None


class Rate(SeqFrame, frozen=True, kw_only=True, tag="rate"):
    reply: Id
    rating: Literal["up", "down"]
    comment: Annotated[str, Meta(max_length=2000)] | None = None


class Handoff(SeqFrame, frozen=True, kw_only=True, tag="handoff"):
    """The visitor's click on "Talk to a person": the conversation goes to the team."""


Token = Annotated[str, Meta(min_length=1, max_length=1024)]


class Confirm(SeqFrame, frozen=True, kw_only=True, tag="confirm"):
    """The visitor's click on a card's Confirm: the only thing that runs a pending action."""

    token: Token
    """The card's signed token, as the server sent it."""
    values: dict[str, Any] = {}
    """What the visitor chose in the card's form (only the card's ``fields``)."""

    def __post_init__(self) -> None:
        check_free("values", self.values)


class Decline(SeqFrame, frozen=True, kw_only=True, tag="decline"):
    """The visitor's click on a card's Cancel."""

    token: Token


class Typing(Frame, frozen=True, kw_only=True, tag="typing"):
    """The visitor is typing (``on``) or stopped; shown to the person who has the conversation.

    Not acknowledged and not resent: a lost one is replaced by the next.
    """

    on: bool


Email = Annotated[str, Meta(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class Ticket(SeqFrame, frozen=True, kw_only=True, tag="ticket"):
    """When no one can answer live: the visitor's address and question, for the team to write
    back (stored before the ack, then delivered to the site's webhook)."""

    email: Email
    text: Annotated[str, Meta(min_length=1, max_length=MAX_MESSAGE_CHARS)]


class Ping(Frame, frozen=True, kw_only=True, tag="ping"):
    pass


ClientFrame = (
    Hello
    | Signal
    | Fire
    | Outcome
    | Event
    | Identify
    | Message
    | Rate
    | Handoff
    | Confirm
    | Decline
    | Typing
    | Ticket
    | Ping
)
#: Every client frame type of v1, in the order the protocol document lists them.
CLIENT_FRAMES: tuple[type[Frame], ...] = (
    Hello, Signal, Fire, Outcome, Event, Identify, Message, Rate, Handoff, Confirm, Decline,
    Typing, Ticket, Ping,
)  # fmt: skip


# Server → client


class Config(msgspec.Struct, frozen=True, kw_only=True):
    time_scale: float = 1.0
    raw_events: bool = False


class Welcome(Frame, frozen=True, kw_only=True, tag="welcome"):
    v: int = PROTOCOL_VERSION
    visitor: str
    """The hello's visitor id, or a fresh one the client must adopt from now on."""
    key: str
    """The visitor key of ``visitor``: kept beside it and sent in every ``hello``."""
    stream: str
    stored_seq: int
    ruleset: dict[str, Any]
    config: Config


class Ack(Frame, frozen=True, kw_only=True, tag="ack"):
    seq: list[int]


class Rules(Frame, frozen=True, kw_only=True, tag="rules"):
    ruleset: dict[str, Any]


class Cta(msgspec.Struct, frozen=True, kw_only=True):
    label: str
    url: str | None = None


class Outreach(Frame, frozen=True, kw_only=True, tag="outreach"):
    id: str
    rule: str
    message: str
    cta: Cta | None = None
    reason: str = ""


class Error(Frame, frozen=True, kw_only=True, tag="error"):
    code: str
    message: str
    seq: int | None = None


class Pong(Frame, frozen=True, kw_only=True, tag="pong"):
    pass


class ReplyStart(Frame, frozen=True, kw_only=True, tag="reply_start"):
    id: str
    conversation: str
    in_reply_to: int


class ReplyDelta(Frame, frozen=True, kw_only=True, tag="reply_delta"):
    id: str
    text: str


class ReplyReset(Frame, frozen=True, kw_only=True, tag="reply_reset"):
    id: str


class Citation(msgspec.Struct, frozen=True, kw_only=True):
    n: int
    title: str
    url: str | None = None
    section: str = ""


class ReplyEnd(Frame, frozen=True, kw_only=True, tag="reply_end"):
    id: str
    text: str
    citations: list[Citation] = []
    kind: Literal["answer", "unknown", "handoff", "action", "ticket"] = "answer"
    """``ticket``: no one can answer live; the widget asks for an email and the question."""
    offline: bool = False


class ReplyDrop(Frame, frozen=True, kw_only=True, tag="reply_drop"):
    """A reply being written when a person took the conversation over: never delivered,
    the widget removes what it showed of it."""

    id: str


class AgentJoined(Frame, frozen=True, kw_only=True, tag="agent_joined"):
    """A person of the team has the conversation (``name`` as they chose to be shown)."""

    conversation: str
    name: str
    at: int


class AgentLeft(Frame, frozen=True, kw_only=True, tag="agent_left"):
    """The person left: handed back to the assistant (``to="bot"``), to their team's queue
    (``to="queue"``), or the conversation was resolved (``to="resolved"``)."""

    conversation: str
    name: str
    to: Literal["bot", "queue", "resolved"]
    at: int


class AgentTyping(Frame, frozen=True, kw_only=True, tag="agent_typing"):
    name: str
    on: bool


class AgentMessage(Frame, frozen=True, kw_only=True, tag="agent_message"):
    """A message the person wrote (text only, shown as text)."""

    id: str
    conversation: str
    name: str
    text: str
    at: int


class ActionDetail(msgspec.Struct, frozen=True, kw_only=True):
    """One line of a confirmation card: ``Amount: 12.50``."""

    label: str
    value: str


class ActionField(msgspec.Struct, frozen=True, kw_only=True):
    """A parameter the visitor still chooses on the card, drawn from the action's schema."""

    name: str
    label: str
    kind: Literal["choice", "integer", "number", "date", "text"]
    required: bool = True
    choices: list[str] = []
    min: float | None = None
    max: float | None = None
    max_length: int | None = None
    value: str | int | float | None = None
    """A suggestion filled in (the schema's default, or what the message said)."""


class ActionCard(Frame, frozen=True, kw_only=True, tag="action"):
    """A proposed action waiting for the visitor's Confirm or Cancel."""

    id: str
    """The pending action's id."""
    token: str
    """Signed by the server; sent back unchanged in ``confirm`` or ``decline``."""
    conversation: str
    action: str
    title: str
    text: str
    """What will happen, in plain words."""
    template: str = ""
    """``text`` still to fill in from the form: ``{name}`` (or ``{name:cents}``) for each field
    named in it, literal braces doubled; empty when the card has no such field."""
    details: list[ActionDetail] = []
    before: str = ""
    after: str = ""
    fields: list[ActionField] = []
    irreversible: bool = False
    expires_at: int
    """Milliseconds since the epoch; after it the card confirms nothing."""


class ActionResult(Frame, frozen=True, kw_only=True, tag="action_result"):
    """What became of a card: run, failed, declined, expired or refused."""

    id: str
    state: Literal["succeeded", "failed", "declined", "expired", "refused"]
    text: str


class HistoryMessage(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    role: Literal["visitor", "bot", "agent"]
    text: str
    at: int
    citations: list[Citation] = []
    name: str | None = None
    """For ``agent``: the person's name."""


class History(Frame, frozen=True, kw_only=True, tag="history"):
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
    | ActionCard
    | ActionResult
    | ReplyDrop
    | AgentJoined
    | AgentLeft
    | AgentTyping
    | AgentMessage
)

#: Every server frame type of v1.
SERVER_FRAMES: tuple[type[Frame], ...] = (
    Welcome, Ack, Rules, Outreach, Error, Pong,
    ReplyStart, ReplyDelta, ReplyReset, ReplyEnd, History, ActionCard, ActionResult,
    ReplyDrop, AgentJoined, AgentLeft, AgentTyping, AgentMessage,
)  # fmt: skip

_decoder: msgspec.json.Decoder[ClientFrame] = msgspec.json.Decoder(ClientFrame)
_encoder = msgspec.json.Encoder()


def decode_with(decoder: msgspec.json.Decoder[Any], data: str | bytes) -> Any:
    """``decoder.decode(data)``, every failure a ``msgspec.DecodeError``.

    msgspec raises ``RecursionError`` for JSON nested past Python's recursion
    limit (a 2 KB frame reaches it) and ``UnicodeDecodeError`` for a binary
    frame that is not UTF-8; both are malformed frames, not server errors.
    A binary frame is checked whole first: msgspec skips the strings of fields
    it does not know without checking them, and the frame is stored as text.
    """
    try:
        if not isinstance(data, str):
            data = bytes(data).decode()
        return decoder.decode(data)
    except RecursionError:
        raise msgspec.DecodeError("JSON is malformed: nested too deeply") from None
    except UnicodeDecodeError:
        raise msgspec.DecodeError("JSON is malformed: not UTF-8") from None


def decode_client(data: str | bytes) -> ClientFrame:
    """Decode one client frame; raises ``msgspec.DecodeError`` / ``msgspec.ValidationError``.

    Every value is bounded on the way: typed fields by their ``Meta``, free-form
    objects by :mod:`bpract.wire.bounds` (each frame's ``__post_init__``).
    """
    frame: ClientFrame = decode_with(_decoder, data)
    return frame


class _SeqOnly(msgspec.Struct, frozen=True):
    seq: Seq | None = None


_seq_decoder = msgspec.json.Decoder(_SeqOnly)


def seq_of(data: str | bytes) -> int | None:
    """The valid ``seq`` of a JSON object that failed validation, if it has one.

    An ``invalid`` refusal carrying it lets the client drop the frame instead of resending it.
    """
    try:
        seq: int | None = decode_with(_seq_decoder, data).seq
    except msgspec.DecodeError:
        return None
    return seq


def encode(frame: ServerFrame) -> bytes:
    """JSON bytes of one server frame."""
    return _encoder.encode(frame)


def tag_of(frame_type: type[Frame]) -> str:
    """The ``t`` of frames of ``frame_type``."""
    return str(frame_type.__struct_config__.tag)


def ack_text(seq: int) -> str:
    """The ``ack`` of one seq as text: ``encode(Ack(seq=[seq]))`` without building the frame."""
    return f'{{"t":"ack","seq":[{seq}]}}'
