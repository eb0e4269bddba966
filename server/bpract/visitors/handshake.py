"""The first frame: ``hello`` within the timeout, checked, answered by ``welcome`` or a close."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import WebSocket

from bpract.clock import now_ms
from bpract.sites import Site
from bpract.visitors.hub import VisitorHub
from bpract.visitors.storage import Opened, open_visitor
from bpract.wire.codes import SUPPORTED_VERSIONS, CloseCode
from bpract.wire.frames import Hello, decode_client, decode_with

_any_json: msgspec.json.Decoder[Any] = msgspec.json.Decoder()

__all__ = ["Accepted", "Closed", "frame_data", "handshake"]


@dataclass(frozen=True, slots=True)
class Accepted:
    hello: Hello
    """The client's hello, its ``visitor`` the one this connection serves (see ``key``)."""
    site: Site
    key: str
    stored_seq: int
    identity_rejected: bool


@dataclass(frozen=True, slots=True)
class Closed:
    code: CloseCode
    reason: str


def frame_data(event: Any) -> str | bytes | None:
    """Payload of an ASGI ``websocket.receive`` event; None when the client is gone."""
    if event["type"] != "websocket.receive":
        return None
    text: str | None = event.get("text")
    return text if text is not None else (event.get("bytes") or b"")


def _reason(code: CloseCode, detail: str = "") -> str:
    # A close reason may carry at most 123 bytes.
    text = f"{code.name}: {detail}" if detail else code.name
    return text.encode()[:120].decode(errors="ignore")


def _parse_hello(data: str | bytes) -> Hello | Closed:
    try:
        raw = decode_with(_any_json, data)
    except msgspec.DecodeError:
        return Closed(CloseCode.bad_hello, _reason(CloseCode.bad_hello, "not JSON"))
    if isinstance(raw, dict) and raw.get("t") == "hello":
        version = raw.get("v")
        if isinstance(version, int) and version not in SUPPORTED_VERSIONS:
            supported = ",".join(str(v) for v in SUPPORTED_VERSIONS)
            detail = f"supported: {supported}"
            return Closed(
                CloseCode.unsupported_version, _reason(CloseCode.unsupported_version, detail)
            )
    try:
        frame = decode_client(data)
    except msgspec.ValidationError as exc:
        return Closed(CloseCode.bad_hello, _reason(CloseCode.bad_hello, str(exc)))
    if not isinstance(frame, Hello):
        return Closed(
            CloseCode.bad_hello, _reason(CloseCode.bad_hello, "first frame must be hello")
        )
    return frame


async def handshake(socket: WebSocket[Any, Any, Any], hub: VisitorHub) -> Accepted | Closed | None:
    """Read and check ``hello``; None if the client left first."""
    try:
        event = await asyncio.wait_for(socket.receive(), hub.settings.hello_timeout)
    except TimeoutError:
        return Closed(CloseCode.hello_timeout, CloseCode.hello_timeout.name)
    data = frame_data(event)
    if data is None:
        return None
    if len(data) > hub.settings.max_frame_bytes:
        return Closed(CloseCode.too_big, CloseCode.too_big.name)
    parsed = _parse_hello(data)
    if isinstance(parsed, Closed):
        return parsed
    hello = parsed
    origin = socket.headers.get("origin")
    grace_ms = int(hub.settings.visitor_key_grace * 1000)
    opened = await hub.db.run(
        lambda conn: open_visitor(conn, hello, origin, now_ms(), key_grace_ms=grace_ms)
    )
    if not isinstance(opened, Opened):
        return Closed(opened.code, opened.reason)
    if opened.visitor != hello.visitor:
        hello = msgspec.structs.replace(hello, visitor=opened.visitor)
    return Accepted(hello, opened.site, opened.key, opened.stored_seq, opened.identity_rejected)
