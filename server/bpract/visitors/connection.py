"""One visitor connection after ``welcome``: limits, decoding, storage, acks, pushes."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import msgspec
from litestar import WebSocket

from bpract.chat.service import PendingAnswer
from bpract.sites import Site, verify_identity
from bpract.triggers.errors import UnknownRuleError
from bpract.visitors.fallback import ServerEngine
from bpract.visitors.hub import VisitorHub, now_ms
from bpract.visitors.limits import ConnectionLimits
from bpract.visitors.protocol import (
    IDENTITY_REJECTED,
    INVALID,
    MALFORMED,
    RATE_LIMITED,
    UNKNOWN_RULE,
    UNKNOWN_TYPE,
    CloseCode,
    Error,
    Event,
    Fire,
    Hello,
    Identify,
    Message,
    Outcome,
    Outreach,
    Ping,
    Pong,
    Rate,
    SeqFrame,
    ServerFrame,
    Signal,
    ack_text,
    decode_client,
    encode,
)
from bpract.visitors.storage import apply_identity
from bpract.visitors.writer import FrameRow, SignalRow

__all__ = ["Connection", "classify_error"]

log = logging.getLogger("bpract.visitors")


def classify_error(exc: msgspec.DecodeError) -> str:
    """Error code for a frame that did not decode."""
    if not isinstance(exc, msgspec.ValidationError):
        return MALFORMED
    text = str(exc)
    if text.startswith("Expected `object`") and " - at `" not in text:
        return MALFORMED  # the frame itself is not an object
    if text.endswith("- at `$.t`") or text == "Object missing required field `t`":
        return UNKNOWN_TYPE if text.startswith("Invalid value") else INVALID
    return INVALID


class _Closing(Exception):
    """The connection must close with ``code``."""

    def __init__(self, code: CloseCode) -> None:
        super().__init__(code.name)
        self.code = code


class Connection:
    """Serves one visitor socket until it closes."""

    def __init__(
        self, socket: WebSocket[Any, Any, Any], hub: VisitorHub, hello: Hello, site: Site
    ) -> None:
        self.socket, self.hub, self.hello, self.site = socket, hub, hello, site
        s = hub.settings
        self.limits = ConnectionLimits(s.conn_rate, s.conn_burst, s.flood_refusals)
        self.engine: ServerEngine | None = None
        self.closed = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def send(self, frame: ServerFrame) -> None:
        await self.send_raw(encode(frame))

    async def send_raw(self, data: bytes) -> None:
        await self.send_text(data.decode())

    async def send_text(self, text: str) -> None:
        if self.closed:
            return
        try:
            await self.socket.send_text(text)
        except Exception:  # the peer went away mid-send; the receive loop will notice
            self.closed = True

    async def error(self, code: str, message: str, seq: int | None = None) -> None:
        await self.send(Error(code=code, message=message, seq=seq))

    def spawn(self, coro: Any) -> None:
        task: asyncio.Task[None] = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("visitor task failed", exc_info=exc)

    async def serve(self) -> CloseCode | None:
        """Receive frames until the client leaves (None) or a fatal refusal (its code)."""
        try:
            while True:
                event = await self.socket.receive()
                if event["type"] != "websocket.receive":
                    return None
                data: str | bytes | None = event.get("text")
                await self.on_data(data if data is not None else (event.get("bytes") or b""))
        except _Closing as closing:
            return closing.code
        finally:
            self.closed = True

    async def on_data(self, data: str | bytes) -> None:
        if len(data) > self.hub.settings.max_frame_bytes:
            raise _Closing(CloseCode.too_big)
        verdict = self.limits.check()
        if verdict == "flood":
            raise _Closing(CloseCode.flood)
        try:
            frame = decode_client(data)
        except msgspec.DecodeError as exc:
            if verdict == "ok":
                await self.error(classify_error(exc), str(exc))
            else:
                await self.error(RATE_LIMITED, "too many frames: slow down and resend")
            return
        seq = getattr(frame, "seq", None)
        if verdict == "limited":
            await self.error(RATE_LIMITED, "too many frames: slow down and resend", seq)
            return
        if not self.hub.site_limits.take(self.site.id):
            await self.error(RATE_LIMITED, "this site is sending too many frames", seq)
            return
        await self.dispatch(frame, data)

    async def dispatch(self, frame: Any, data: str | bytes) -> None:
        match frame:
            case Ping():
                await self.send(Pong())
            case Hello():
                await self.error(INVALID, "hello was already received")
            case Message() if self.hub.chat is not None and await self.hub.chat.over_rate(
                self.site.id, self.hello.visitor
            ):
                await self.error(RATE_LIMITED, "too many chat messages: wait a minute", frame.seq)
            case _:
                await self.store(frame, data)

    async def store(self, frame: SeqFrame, data: str | bytes) -> None:
        hello, received = self.hello, now_ms()
        body = data if isinstance(data, str) else data.decode()
        row = FrameRow(
            self.site.id,
            hello.visitor,
            hello.stream,
            frame.seq,
            _tag(frame),
            frame.at,
            received,
            body,
        )
        signal = None
        if isinstance(frame, Signal):
            signal = SignalRow(
                self.site.id,
                hello.visitor,
                frame.session,
                frame.name,
                frame.at,
                msgspec.json.encode(frame.data).decode(),
            )
        new = await self.hub.writer.store(row, signal)
        pending = await self.chat_turn(frame) if new and isinstance(frame, Message) else None
        await self.send_text(ack_text(frame.seq))
        if pending is not None and self.hub.chat is not None:
            self.hub.chat.answer(pending)  # after the ack: the answer follows its message
        elif new:
            await self.process(frame)

    async def chat_turn(self, frame: Message) -> PendingAnswer | None:
        """Store a new chat message as a turn of the visitor's conversation (before the ack)."""
        if self.hub.chat is None:
            return None
        hello = self.hello
        return await self.hub.chat.accept(
            site=self.site,
            visitor=hello.visitor,
            stream=hello.stream,
            seq=frame.seq,
            text=frame.text,
            outreach=frame.outreach,
            lang_hint=hello.lang,
        )

    async def process(self, frame: SeqFrame) -> None:
        """Act on a newly stored frame."""
        match frame:
            case Fire():
                self.spawn(
                    self.fire(
                        frame.rule,
                        version=frame.rule_version,
                        session=frame.session,
                        context=frame.context,
                        at=frame.at,
                        seq=frame.seq,
                    )
                )
            case Outcome():
                self.spawn(self.outcome(frame))
            case Identify():
                await self.identify(frame)
            case Event() if self.engine is not None:
                await self.engine_event(self.engine, frame)
            case Rate() if self.hub.chat is not None:
                await self.rate(frame)
            case _:
                pass  # signals are stored with the frame

    async def rate(self, frame: Rate) -> None:
        assert self.hub.chat is not None  # checked by the caller
        known = await self.hub.chat.rate(
            site_id=self.site.id,
            visitor=self.hello.visitor,
            reply=frame.reply,
            rating=frame.rating,
            comment=frame.comment,
        )
        if not known:
            detail = f"reply {frame.reply!r} is not one of your answers"
            await self.error(INVALID, detail, frame.seq)

    async def fire(
        self,
        rule: str,
        *,
        version: int,
        session: str | None,
        context: dict[str, Any],
        at: int,
        seq: int | None,
    ) -> None:
        try:
            result = await self.hub.triggers.handle_fire(
                site_id=self.site.id,
                visitor=self.hello.visitor,
                session=session,
                rule=rule,
                rule_version=version,
                context=context,
                at_ms=at,
                lang=self.hello.lang,
            )
        except UnknownRuleError as exc:
            await self.error(UNKNOWN_RULE, str(exc) or f"unknown rule {rule!r}", seq)
            return
        if result.outreach is not None:
            await self.send(msgspec.convert(result.outreach, Outreach))

    async def outcome(self, frame: Outcome) -> None:
        await self.hub.triggers.record_outcome(
            site_id=self.site.id,
            visitor=self.hello.visitor,
            outreach_id=frame.outreach,
            kind=frame.kind,
            at_ms=frame.at,
        )

    async def identify(self, frame: Identify) -> None:
        if not verify_identity(self.site.identity_secret, frame.user_id, frame.user_hash):
            await self.error(IDENTITY_REJECTED, "user_hash does not sign user_id", frame.seq)
            return
        await self._apply_identity(frame.user_id, frame.traits)
        if self.engine is not None:
            self.engine.set_identity(frame.user_id, frame.traits)

    async def _apply_identity(self, user_id: str, traits: dict[str, Any] | None) -> None:
        traits_json = json.dumps(traits) if traits is not None else None
        site_id, visitor = self.site.id, self.hello.visitor
        await self.hub.db.transaction(
            lambda conn: apply_identity(conn, site_id, visitor, user_id, traits_json)
        )

    async def engine_event(self, engine: ServerEngine, frame: Event) -> None:
        """Feed a raw event to the server-side engine; identities are verified first."""
        event = frame.event
        if event.get("k") == "identify":
            user_id, user_hash = event.get("user_id"), event.get("user_hash")
            traits = event.get("traits") if isinstance(event.get("traits"), dict) else None
            if not (isinstance(user_id, str) and isinstance(user_hash, str)) or not (
                verify_identity(self.site.identity_secret, user_id, user_hash)
            ):
                await self.error(IDENTITY_REJECTED, "user_hash does not sign user_id", frame.seq)
                return
            await self._apply_identity(user_id, traits)
            engine.set_identity(user_id, traits)
            return
        await self.engine_output(engine.handle(event))

    async def engine_output(self, frames: list[dict[str, Any]]) -> None:
        """Handle what the server-side engine produced, as if a browser had sent it."""
        for out in frames:
            if out.get("t") == "signal":
                row = SignalRow(
                    self.site.id,
                    self.hello.visitor,
                    out.get("session"),
                    str(out["name"]),
                    int(out["at"]),
                    json.dumps(out.get("data") or {}),
                )
                await self.hub.writer.store(None, row)
            elif out.get("t") == "fire":
                self.spawn(
                    self.fire(
                        str(out["rule"]),
                        version=int(out["rule_version"]),
                        session=out.get("session"),
                        context=dict(out.get("context") or {}),
                        at=int(out["at"]),
                        seq=None,
                    )
                )


def _tag(frame: SeqFrame) -> str:
    return str(type(frame).__struct_config__.tag)
