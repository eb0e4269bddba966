"""Visitor protocol v1, browser side: client frame builders and the server frame parser.

The contract is docs/protocol.md; frames are plain dicts encoded as JSON text.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import IntEnum
from typing import Any

__all__ = [
    "NO_RECONNECT",
    "OUTCOME_KINDS",
    "PROTOCOL_VERSION",
    "SERVER_FRAME_TYPES",
    "CloseCode",
    "ProtocolError",
    "encode",
    "event",
    "hello",
    "identify",
    "message",
    "outcome",
    "parse_server_frame",
    "ping",
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
    FLOOD = 4429
    TOO_BIG = 1009
    INTERNAL = 1011


NO_RECONNECT = frozenset(
    {CloseCode.UNSUPPORTED_VERSION, CloseCode.FORBIDDEN_ORIGIN, CloseCode.UNKNOWN_SITE}
)
OUTCOME_KINDS = frozenset({"shown", "opened", "clicked", "dismissed", "replied", "converted"})


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
) -> dict[str, Any]:
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
    }


def outcome(*, at: int, outreach: str, kind: str) -> dict[str, Any]:
    if kind not in OUTCOME_KINDS:
        raise ValueError(f"unknown outcome kind {kind!r}")
    return {"t": "outcome", "at": at, "outreach": outreach, "kind": kind}


def message(*, at: int, text: str, outreach: str | None = None) -> dict[str, Any]:
    return {"t": "message", "at": at, "text": text, "outreach": outreach}


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


def event(*, at: int, raw: dict[str, Any]) -> dict[str, Any]:
    """A raw loader event, forwarded as is (fallback mode, or ``config.raw_events``)."""
    return {"t": "event", "at": at, "event": raw}


def ping() -> dict[str, Any]:
    return {"t": "ping"}


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _require(frame: dict[str, Any], name: str, check: Callable[[Any], object], what: str) -> None:
    if not check(frame.get(name)):
        raise ProtocolError(f"{frame['t']}.{name} must be {what}")


def _welcome(frame: dict[str, Any]) -> None:
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


_CHECKS: dict[str, Callable[[dict[str, Any]], None]] = {
    "welcome": _welcome,
    "ack": _ack,
    "rules": lambda f: _require(f, "ruleset", lambda v: isinstance(v, dict), "an object"),
    "outreach": _outreach,
    "error": _error,
    "pong": lambda f: None,
}
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
