"""Visitor protocol v1, browser side: client frame builders and the server frame parser.

The contract is docs/protocol.md; frames are plain dicts encoded as JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import IntEnum
from typing import Any

__all__ = [
    "ACTION_STATES",
    "AGENT_LEFT_TO",
    "CHAT_FRAME_TYPES",
    "NO_RECONNECT",
    "OUTCOME_KINDS",
    "PROTOCOL_VERSION",
    "RATINGS",
    "REPLY_KINDS",
    "SERVER_FRAME_TYPES",
    "CloseCode",
    "ProtocolError",
    "confirm",
    "decline",
    "encode",
    "event",
    "handoff",
    "hello",
    "identify",
    "message",
    "outcome",
    "parse_server_frame",
    "ping",
    "rate",
    "ticket",
    "typing",
]

PROTOCOL_VERSION = 1
MAX_FRAME_BYTES = 16 * 1024


class CloseCode(IntEnum):
    """WebSocket close codes the server uses, named as in docs/protocol.md."""

    BAD_HELLO = 4400
    UNSUPPORTED_VERSION = 4401
    FORBIDDEN_ORIGIN = 4403
    UNKNOWN_SITE = 4404
    HELLO_TIMEOUT = 4408
    IDLE_TIMEOUT = 4410
    FLOOD = 4429
    TOO_MANY_CONNECTIONS = 4430
    TOO_BIG = 1009
    INTERNAL = 1011


NO_RECONNECT = frozenset(
    {CloseCode.UNSUPPORTED_VERSION, CloseCode.FORBIDDEN_ORIGIN, CloseCode.UNKNOWN_SITE}
)
OUTCOME_KINDS = frozenset({"shown", "opened", "clicked", "dismissed", "replied", "converted"})
RATINGS = frozenset({"up", "down"})
REPLY_KINDS = frozenset({"answer", "unknown", "handoff", "action", "ticket"})
ACTION_STATES = frozenset({"succeeded", "failed", "declined", "expired", "refused"})
FIELD_KINDS = frozenset({"choice", "integer", "number", "date", "text"})
MAX_TOKEN_CHARS = 1024
AGENT_LEFT_TO = frozenset({"bot", "queue", "resolved"})
MAX_NAME_CHARS = 100  # a person's display name (the inbox keeps them shorter)
MAX_AGENT_TEXT_CHARS = 8000  # what a person writes; past this the frame is refused
MAX_ID_CHARS = 64


class ProtocolError(ValueError):
    """A server frame that does not follow the protocol."""


def encode(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def hello(
    *,
    site: str,
    visitor: str,
    stream: str,
    page: dict[str, str],
    device: str,
    lang: str = "",
    tz: str = "",
    identity: dict[str, Any] | None = None,
    engine: str = "pyodide",
    key: str | None = None,
) -> dict[str, Any]:
    """The first frame; ``key`` is the visitor key a ``welcome`` gave ``visitor``."""
    return {
        "t": "hello",
        "v": PROTOCOL_VERSION,
        "site": site,
        "visitor": visitor,
        "stream": stream,
        "engine": engine,
        "page": {
            "url": page.get("url", ""),
            "title": page.get("title", ""),
            "referrer": page.get("referrer", ""),
        },
        "device": device,
        "lang": lang,
        "tz": tz,
        "identity": identity,
        "key": key,
    }


def outcome(*, at: int, outreach: str, kind: str) -> dict[str, Any]:
    if kind not in OUTCOME_KINDS:
        raise ValueError(f"unknown outcome kind {kind!r}")
    return {"t": "outcome", "at": at, "outreach": outreach, "kind": kind}


def message(*, at: int, text: str, outreach: str | None = None) -> dict[str, Any]:
    return {"t": "message", "at": at, "text": text, "outreach": outreach}


def rate(*, at: int, reply: str, rating: str, comment: str | None = None) -> dict[str, Any]:
    """The visitor's thumbs up or down on one answer (``reply`` is its ``r_…`` id)."""
    if rating not in RATINGS:
        raise ValueError(f"unknown rating {rating!r}")
    return {"t": "rate", "at": at, "reply": reply, "rating": rating, "comment": comment}


def identify(
    *, at: int, user_id: str, user_hash: str, traits: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {
        "t": "identify",
        "at": at,
        "user_id": user_id,
        "user_hash": user_hash,
        "traits": traits or {},
    }


def handoff(*, at: int) -> dict[str, Any]:
    """The visitor's click on "Talk to a person"."""
    return {"t": "handoff", "at": at}


def ticket(*, at: int, email: str, text: str) -> dict[str, Any]:
    """When no one can answer live: the visitor's email address and question."""
    return {"t": "ticket", "at": at, "email": email, "text": text}


def confirm(*, at: int, token: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """The visitor's click on a card's Confirm, with what they chose in its form."""
    return {"t": "confirm", "at": at, "token": token, "values": values or {}}


def decline(*, at: int, token: str) -> dict[str, Any]:
    """The visitor's click on a card's Cancel."""
    return {"t": "decline", "at": at, "token": token}


def event(*, at: int, raw: dict[str, Any]) -> dict[str, Any]:
    """A raw loader event, forwarded as is (fallback mode, or ``config.raw_events``)."""
    return {"t": "event", "at": at, "event": raw}


def ping() -> dict[str, Any]:
    return {"t": "ping"}


def typing(*, on: bool) -> dict[str, Any]:
    """The visitor started or stopped typing; not numbered, acknowledged or resent."""
    return {"t": "typing", "on": on}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(frame: dict[str, Any], name: str, check: Callable[[Any], object], what: str) -> None:
    if not check(frame.get(name)):
        raise ProtocolError(f"{frame['t']}.{name} must be {what}")


def _welcome(frame: dict[str, Any]) -> None:
    for name in ("visitor", "key"):  # the visitor to be from now on, and its key
        if name in frame:
            _require(frame, name, lambda v: isinstance(v, str) and v, "a string")
    _require(frame, "stored_seq", _is_int, "an integer")
    _require(frame, "ruleset", lambda v: isinstance(v, dict), "an object")
    config = frame.setdefault("config", {})
    if not isinstance(config, dict):
        raise ProtocolError("welcome.config must be an object")


def _ack(frame: dict[str, Any]) -> None:
    _require(frame, "seq", lambda v: isinstance(v, list) and all(map(_is_int, v)), "a list")


def _outreach(frame: dict[str, Any]) -> None:
    _require(frame, "id", lambda v: isinstance(v, str) and v, "a string")
    _require(frame, "message", lambda v: isinstance(v, str), "a string")


def _error(frame: dict[str, Any]) -> None:
    _require(frame, "code", lambda v: isinstance(v, str), "a string")
    seq = frame.setdefault("seq", None)
    if seq is not None and not _is_int(seq):
        raise ProtocolError("error.seq must be an integer or null")


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_list_of_objects(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(v, dict) for v in value)


def _reply_id(frame: dict[str, Any]) -> None:
    _require(frame, "id", lambda v: isinstance(v, str) and v, "a string")


def _reply_start(frame: dict[str, Any]) -> None:
    _reply_id(frame)
    in_reply_to = frame.setdefault("in_reply_to", None)
    if in_reply_to is not None and not _is_int(in_reply_to):
        raise ProtocolError("reply_start.in_reply_to must be an integer or null")


def _reply_delta(frame: dict[str, Any]) -> None:
    _reply_id(frame)
    _require(frame, "text", _is_str, "a string")


def _reply_end(frame: dict[str, Any]) -> None:
    _reply_id(frame)
    _require(frame, "text", _is_str, "a string")
    # defaults a server may leave out when they hold their default value
    frame.setdefault("citations", [])
    frame.setdefault("kind", "answer")
    frame.setdefault("offline", False)
    _require(frame, "citations", _is_list_of_objects, "a list of objects")
    _require(
        frame, "kind", lambda v: v in REPLY_KINDS, "answer, unknown, handoff, action or ticket"
    )
    _require(frame, "offline", lambda v: isinstance(v, bool), "a boolean")


def _history(frame: dict[str, Any]) -> None:
    _require(frame, "conversation", _is_str, "a string")
    _require(frame, "messages", _is_list_of_objects, "a list of objects")


def _field(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and isinstance(value.get("name"), str)
        and isinstance(value.get("label"), str)
        and value.get("kind") in FIELD_KINDS
    )


def _action(frame: dict[str, Any]) -> None:
    _reply_id(frame)
    for name in ("token", "conversation", "action", "title", "text"):
        _require(frame, name, _is_str, "a string")
    _require(frame, "expires_at", _is_int, "an integer")
    defaults: tuple[tuple[str, object], ...] = (
        ("template", ""), ("details", []), ("fields", []), ("before", ""), ("after", ""),
    )  # fmt: skip
    for name, default in defaults:
        frame.setdefault(name, default)
    frame.setdefault("irreversible", False)
    _require(frame, "template", _is_str, "a string")
    _require(frame, "details", _is_list_of_objects, "a list of objects")
    _require(frame, "fields", lambda v: isinstance(v, list) and all(map(_field, v)), "fields")
    _require(frame, "irreversible", lambda v: isinstance(v, bool), "a boolean")


def _action_result(frame: dict[str, Any]) -> None:
    _reply_id(frame)
    _require(frame, "state", lambda v: v in ACTION_STATES, "a known state")
    _require(frame, "text", _is_str, "a string")


def _bounded(most: int, least: int = 0) -> Callable[[Any], bool]:
    return lambda v: isinstance(v, str) and least <= len(v) <= most


def _agent(frame: dict[str, Any]) -> None:
    """The fields every frame about the person who has the conversation carries."""
    _require(frame, "name", _bounded(MAX_NAME_CHARS, 1), f"a string of 1 to {MAX_NAME_CHARS}")
    if frame["t"] != "agent_typing":
        _require(frame, "conversation", _bounded(MAX_ID_CHARS, 1), "an id")
        _require(frame, "at", _is_int, "an integer")


def _agent_left(frame: dict[str, Any]) -> None:
    _agent(frame)
    _require(frame, "to", lambda v: v in AGENT_LEFT_TO, "bot, queue or resolved")


def _agent_typing(frame: dict[str, Any]) -> None:
    _agent(frame)
    _require(frame, "on", lambda v: isinstance(v, bool), "a boolean")


def _agent_message(frame: dict[str, Any]) -> None:
    _require(frame, "id", _bounded(MAX_ID_CHARS, 1), "an id")
    _agent(frame)
    _require(frame, "text", _bounded(MAX_AGENT_TEXT_CHARS), "a string")


_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "welcome": _welcome,
    "ack": _ack,
    "rules": lambda f: _require(f, "ruleset", lambda v: isinstance(v, dict), "an object"),
    "outreach": _outreach,
    "error": _error,
    "pong": lambda f: None,
    "reply_start": _reply_start,
    "reply_delta": _reply_delta,
    "reply_reset": _reply_id,
    "reply_end": _reply_end,
    "history": _history,
    "action": _action,
    "action_result": _action_result,
    "reply_drop": _reply_id,
    "agent_joined": _agent,
    "agent_left": _agent_left,
    "agent_typing": _agent_typing,
    "agent_message": _agent_message,
}
CHAT_FRAME_TYPES = frozenset(
    {"reply_start", "reply_delta", "reply_reset", "reply_end", "reply_drop", "history"}
    | {"action", "action_result", "agent_joined", "agent_left", "agent_typing", "agent_message"}
)
SERVER_FRAME_TYPES = frozenset(_CHECKS)


def parse_server_frame(text: str) -> dict[str, Any]:
    """Decode and check one server frame; raises :class:`ProtocolError` if it is not one."""
    try:
        frame = json.loads(text)
    except ValueError as exc:
        raise ProtocolError(f"not JSON: {exc}") from exc
    if not isinstance(frame, dict):
        raise ProtocolError("a frame must be a JSON object")
    kind = frame.get("t")
    check = _CHECKS.get(kind) if isinstance(kind, str) else None
    if check is None:
        raise ProtocolError(f"unknown frame type {kind!r}")
    check(frame)
    return frame
