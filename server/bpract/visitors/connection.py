"""One visitor connection after ``welcome``: limits, decoding, storage, acks, dispatch."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import msgspec
from litestar import WebSocket

from bpract.clock import now_ms
from bpract.visitors.limits import ConnectionLimits
from bpract.visitors.writer import FrameRow, RowRefused, SignalRow
from bpract.wire.codes import INVALID, MALFORMED, RATE_LIMITED, UNKNOWN_TYPE, CloseCode
from bpract.wire.frames import (
    Error,
    Frame,
    Hello,
    Page,
    Ping,
    Pong,
    SeqFrame,
    Signal,
    ack_text,
    decode_with,
    seq_of,
    tag_of,
)  # fmt: skip
from bpract.wire.handlers import FrameHandler

if TYPE_CHECKING:
    from bpract.sites import Site
    from bpract.visitors.fallback import ServerEngine
    from bpract.visitors.hub import VisitorHub

__all__ = ["Closing", "Connection", "VerifiedIdentity", "classify_error", "error_path"]

log = logging.getLogger("bpract.visitors")
_encoder = msgspec.json.Encoder()


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


def error_path(exc: msgspec.DecodeError) -> str:
    """Where in the frame ``exc`` happened (``$.data``…), for logs that never quote a frame."""
    _, at, path = str(exc).rpartition(" - at `")
    return path.rstrip("`") if at else "$"


class Closing(Exception):
    """The connection must close with ``code``."""

    def __init__(self, code: CloseCode) -> None:
        super().__init__(code.name)
        self.code = code


class _IdleWatch:
    """Cancels the task serving a connection once it has heard nothing for ``seconds``.

    A frame costs one clock read: the timer is not moved per frame, it wakes when the
    last deadline it knew of passes and sleeps again until the one the latest frame set.
    It cancels only while the task waits for a frame, never in the middle of one.
    """

    __slots__ = ("_handle", "_last", "_loop", "_seconds", "_task", "expired", "listening")

    def __init__(self, seconds: float) -> None:
        self._loop = asyncio.get_running_loop()
        self._task = asyncio.current_task()
        self._seconds = seconds
        self._last = self._loop.time()
        self.expired = False
        self.listening = False
        self._handle = self._loop.call_at(self._last + seconds, self._check)

    def heard(self) -> None:
        self._last = self._loop.time()
        self.listening = False

    def _check(self) -> None:
        due = self._last + self._seconds
        if self.listening and self._loop.time() >= due and self._task is not None:
            self.expired = True
            self._task.cancel()
        else:
            self._handle = self._loop.call_at(max(due, self._loop.time() + 0.05), self._check)

    def stop(self) -> None:
        self._handle.cancel()
        if self.expired and self._task is not None:
            self._task.uncancel()


@dataclass(frozen=True, slots=True)
class VerifiedIdentity:
    """A user id whose HMAC the site's identity secret verified, and the traits sent with it."""

    user_id: str
    traits: Mapping[str, Any]


class Connection:
    """Serves one visitor socket until it closes; the :class:`~bpract.wire.Visit` of handlers."""

    def __init__(
        self,
        socket: WebSocket[Any, Any, Any],
        hub: VisitorHub,
        hello: Hello,
        site: Site,
        address: str,
    ) -> None:
        self.socket, self.hub, self.hello, self.site = socket, hub, hello, site
        self.address = address
        self.limits = ConnectionLimits(hub.budgets, address=address, visitor=hello.visitor)
        self._site_key = str(site.id)
        self.engine: ServerEngine | None = None
        self.closed = False
        self.identity: VerifiedIdentity | None = None
        """Set once the site's HMAC verified a user id on this connection (hello or identify)."""
        self._tasks: set[asyncio.Task[None]] = set()

    # -- the Visit protocol -----------------------------------------------------------------

    @property
    def site_id(self) -> int:
        return self.site.id

    @property
    def site_name(self) -> str:
        return self.site.name

    @property
    def visitor(self) -> str:
        return self.hello.visitor

    @property
    def stream(self) -> str:
        return self.hello.stream

    @property
    def lang(self) -> str | None:
        return self.hello.lang

    @property
    def page(self) -> Page | None:
        return self.hello.page

    @property
    def client(self) -> str:
        return self.address

    @property
    def user_id(self) -> str | None:
        return self.identity.user_id if self.identity is not None else None

    @property
    def traits(self) -> dict[str, Any]:
        return dict(self.identity.traits) if self.identity is not None else {}

    async def send(self, frame: Frame) -> None:
        await self.send_raw(_encoder.encode(frame))

    async def error(self, code: str, message: str, seq: int | None = None) -> None:
        await self.send(Error(code=code, message=message, seq=seq or None))

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task: asyncio.Task[None] = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    # -- sending ----------------------------------------------------------------------------

    async def send_raw(self, data: bytes) -> None:
        await self.send_text(data.decode())

    async def send_text(self, text: str) -> None:
        if self.closed:
            return
        try:
            await self.socket.send_text(text)
        except Exception:  # the peer went away mid-send; the receive loop will notice
            self.closed = True

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            log.error("visitor task failed", exc_info=exc)

    # -- receiving --------------------------------------------------------------------------

    async def serve(self) -> CloseCode | None:
        """Receive frames until the client leaves (None) or a fatal refusal (its code).

        A client silent for ``idle_timeout`` seconds is closed: pings keep a live one open.
        """
        idle = _IdleWatch(self.hub.settings.idle_timeout)
        try:
            while True:
                idle.listening = True
                event = await self.socket.receive()
                idle.heard()
                if event["type"] != "websocket.receive":
                    return None
                data: str | bytes | None = event.get("text")
                await self.on_data(data if data is not None else (event.get("bytes") or b""))
        except asyncio.CancelledError:
            if not idle.expired:
                raise
            return CloseCode.idle_timeout
        except Closing as closing:
            return closing.code
        finally:
            idle.stop()
            self.closed = True

    async def on_data(self, data: str | bytes) -> None:
        if len(data) > self.hub.settings.max_frame_bytes:
            raise Closing(CloseCode.too_big)
        verdict = self.limits.check()
        if verdict == "flood":
            raise Closing(CloseCode.flood)
        try:
            frame = decode_with(self.hub.decoder, data)
        except msgspec.DecodeError as exc:
            if verdict == "ok":
                await self.refuse(exc, data)
            else:
                await self.error(RATE_LIMITED, "too many frames: slow down and resend")
            return
        seq = getattr(frame, "seq", None)
        if verdict == "limited":
            await self.error(RATE_LIMITED, "too many frames: slow down and resend", seq)
            return
        if not self.hub.site_limits.take(self._site_key):
            await self.error(RATE_LIMITED, "this site is sending too many frames", seq)
            return
        await self.dispatch(frame, data)

    async def refuse(self, exc: msgspec.DecodeError, data: str | bytes) -> None:
        """Answer a frame that did not decode or validate; logged once, without its content."""
        code = classify_error(exc)
        seq = seq_of(data) if code == INVALID else None
        log.info(
            "visitor frame refused: %s at %s (site %d, seq %s)",
            code, error_path(exc), self.site.id, seq,
        )  # fmt: skip
        await self.error(code, str(exc), seq)

    async def dispatch(self, frame: Frame, data: str | bytes) -> None:
        match frame:
            case Ping():
                await self.send(Pong())
            case Hello():
                await self.error(INVALID, "hello was already received")
            case _ if (passer := self.hub.frames.passer(frame)) is not None:
                await passer(self, frame)
            case SeqFrame():
                handler = self.hub.frames.get(frame)
                if handler is not None and handler.admit is not None:
                    refusal = await handler.admit(self, frame)
                    if refusal is not None:
                        await self.error(RATE_LIMITED, refusal, frame.seq)
                        return
                await self.store(frame, data, handler)

    async def store(
        self, frame: SeqFrame, data: str | bytes, handler: FrameHandler[Any] | None
    ) -> None:
        """Store ``frame`` once, let its handler see it if new, acknowledge, then follow up."""
        hello = self.hello
        body = data if isinstance(data, str) else data.decode()
        row = FrameRow(
            self.site.id, hello.visitor, hello.stream, frame.seq, tag_of(type(frame)), frame.at,
            now_ms(), body,
        )  # fmt: skip
        signal = None
        if isinstance(frame, Signal):  # a signal's own row is written in the frame's batch
            data_json = _encoder.encode(frame.data).decode()
            signal = SignalRow(
                self.site.id, hello.visitor, frame.session, frame.name, frame.at, data_json
            )
        try:
            new = await self.hub.writer.store(row, signal)
        except RowRefused as exc:
            await self.storage_refused(exc, frame.seq)
            return
        follow_up = await handler.handle(self, frame) if new and handler is not None else None
        await self.send_text(ack_text(frame.seq))
        if follow_up is not None:
            await follow_up()

    async def storage_refused(self, exc: RowRefused, seq: int) -> None:
        """The database refused what frame ``seq`` made: ``invalid`` for it, no one else touched."""
        log.warning(
            "visitor frame not stored: %s (site %d, seq %d)", exc, self.site.id, seq
        )  # a bound the wire types should have enforced is missing
        await self.error(INVALID, "the frame holds a value the server cannot store", seq)

    async def handle(self, frame: SeqFrame) -> Any:
        """Run the handler of a frame stored (or made by the server-side engine) just now."""
        handler = self.hub.frames.get(frame)
        return None if handler is None else await handler.handle(self, frame)
