"""``/inbox/live``: an agent's WebSocket — the queue and the conversation they look at, live.

Signed in by the session cookie (the same as the pages'), from the inbox's own origin only.
The socket subscribes to the inbox channel of each of the organisation's sites (the queue
changed) and to the conversation channel of the one the agent watches; what comes on those
channels is passed on as it is (:mod:`bpract.chat.desk` events).  What the agent sends:

    {"t": "watch", "conversation": "c_…"}        look at one conversation (one at a time)
    {"t": "say", "conversation": "c_…", "text": "…", "id": "<client id>"}
    {"t": "typing", "conversation": "c_…", "on": true}
    {"t": "beat", "state": "online" | "away"}    presence, every ``beat_s`` seconds
    {"t": "ping"}

Answers: ``{"t": "hello", …}`` once, ``{"t": "said", "id", "message"}``, ``{"t": "refused",
"id", "reason"}`` and ``{"t": "pong"}``.  The session is checked again every minute and
before each message; an ended session closes the socket (4401), so does a foreign origin
(4403) or a flood of frames (4429).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from typing import Annotated, Any, Final, Literal
from urllib.parse import urlsplit

import msgspec
from litestar import WebSocket, websocket
from litestar.channels import ChannelsPlugin, Subscriber
from litestar.di import NamedDependency
from msgspec import Meta

from bpract.chat import ChatService
from bpract.chat.storage import conversation_in
from bpract.clock import now_ms
from bpract.inbox import presence, queue
from bpract.inbox.auth import SESSION_COOKIE, InboxAuth
from bpract.inbox.settings import InboxSettings
from bpract.inbox.storage import Agent
from bpract.settings import Settings
from bpract.store import Database
from bpract.visitors.limits import MemoryLimiter
from bpract.wire.channels import conversation_channel, inbox_channel
from bpract.wire.codes import MAX_MESSAGE_CHARS

__all__ = ["LIVE_PATH", "route_handlers"]

log = logging.getLogger("bpract.inbox")

LIVE_PATH: Final = "/inbox/live"
_MAX_FRAME: Final = 16 * 1024
_RECHECK_S: Final = 60.0
_SIGNED_OUT, _FOREIGN, _FLOOD = 4401, 4403, 4429

ConversationId = Annotated[str, Meta(min_length=3, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
ClientId = Annotated[str, Meta(min_length=1, max_length=64)]


class _In(msgspec.Struct, frozen=True, kw_only=True, tag_field="t"):
    pass


class Watch(_In, frozen=True, kw_only=True, tag="watch"):
    conversation: ConversationId


class Say(_In, frozen=True, kw_only=True, tag="say"):
    conversation: ConversationId
    text: Annotated[str, Meta(min_length=1, max_length=MAX_MESSAGE_CHARS)]
    id: ClientId


class Typing(_In, frozen=True, kw_only=True, tag="typing"):
    conversation: ConversationId
    on: bool


class Beat(_In, frozen=True, kw_only=True, tag="beat"):
    state: Literal["online", "away"] = "online"


class Ping(_In, frozen=True, kw_only=True, tag="ping"):
    pass


_decoder = msgspec.json.Decoder(Watch | Say | Typing | Beat | Ping)
_encoder = msgspec.json.Encoder()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def same_origin(socket: WebSocket[Any, Any, Any], settings: Settings) -> bool:
    """Whether the socket was opened by a page of this server (its public URL, else its host)."""
    origin = (socket.headers.get("origin") or "").lower()
    if not origin:
        return False
    public = settings.server.public_url
    if public:
        return origin == _origin(public)
    host = socket.headers.get("host", "").lower()
    return bool(host) and origin in (f"http://{host}", f"https://{host}")


class _Live:
    """One agent socket."""

    def __init__(
        self, socket: WebSocket[Any, Any, Any], agent: Agent, session: str, *,
        inbox: InboxAuth, chat: ChatService, db: Database, channels: ChannelsPlugin,
        settings: InboxSettings,
    ) -> None:  # fmt: skip
        self.socket, self.agent, self.session = socket, agent, session
        self.inbox, self.chat, self.db, self.channels = inbox, chat, db, channels
        self.settings = settings
        self.id = "l_" + secrets.token_urlsafe(12)
        self.site_ids: list[int] = []
        self.watching: tuple[str, Subscriber, asyncio.Task[None]] | None = None
        self.limit = MemoryLimiter(20.0, 60)  # frames: 20 a second, bursts of 60
        self.checked = time.monotonic()
        self.closed = False

    async def send(self, data: bytes | str) -> None:
        if self.closed:
            return
        try:
            await self.socket.send_text(data if isinstance(data, str) else data.decode())
        except Exception:  # gone mid-send; the receive loop notices
            self.closed = True

    async def refuse(self, reason: str, client_id: str | None = None) -> None:
        await self.send(_encoder.encode({"t": "refused", "id": client_id, "reason": reason}))

    async def still_signed_in(self, force: bool = False) -> bool:
        if not force and time.monotonic() - self.checked < _RECHECK_S:
            return True
        agent = await self.inbox.agent(self.session)
        self.checked = time.monotonic()
        if agent is None or agent.id != self.agent.id:
            return False
        self.agent = agent
        return True

    async def watch(self, conversation: str) -> None:
        site_ids = self.site_ids
        found = await self.db.run(lambda c: conversation_in(c, site_ids, conversation))
        if found is None:
            await self.refuse("no such conversation")
            return
        await self.unwatch()
        channel = conversation_channel(found.site_id, found.id)
        subscriber = await self.channels.subscribe(channel)
        self.watching = channel, subscriber, asyncio.create_task(self._pump(subscriber))

    async def _pump(self, subscriber: Subscriber) -> None:
        async for event in subscriber.iter_events():
            await self.send(event)

    async def unwatch(self) -> None:
        if self.watching is None:
            return
        channel, subscriber, task = self.watching
        self.watching = None
        await self.channels.unsubscribe(subscriber, channel)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def handle(self, frame: Watch | Say | Typing | Beat | Ping) -> None:
        agent, desk = self.agent, self.chat.desk
        match frame:
            case Ping():
                await self.send('{"t":"pong"}')
            case Beat(state=state):
                await presence.beat(self.db, self.id, agent, state, now_ms())
            case Watch(conversation=conversation):
                await self.watch(conversation)
            case Typing(conversation=conversation, on=on):
                await desk.typing(
                    self.site_ids, conversation, agent_id=agent.id, name=agent.display_name, on=on
                )
            case Say(conversation=conversation, text=text, id=client_id):
                if not await self.still_signed_in(force=True):
                    raise _Ended
                try:
                    said = await desk.say(
                        self.site_ids, conversation, agent_id=agent.id,
                        name=agent.display_name, text=text, client_id=client_id,
                    )  # fmt: skip
                except ValueError as exc:
                    await self.refuse(str(exc), client_id)
                    return
                if said is None:
                    await self.refuse("you do not have this conversation: take it over first",
                                      client_id)  # fmt: skip
                    return
                await self.send(_encoder.encode({"t": "said", "id": client_id, "message": said.id}))

    async def serve(self) -> int | None:
        """Receive until the agent leaves (None) or must be closed (the code)."""
        while True:
            event = await self.socket.receive()
            if event["type"] != "websocket.receive":
                return None
            data = event.get("text") or event.get("bytes") or b""
            if len(data) > _MAX_FRAME:
                await self.refuse(f"a frame has at most {_MAX_FRAME} bytes")
                continue
            if not self.limit.take("frames"):
                return _FLOOD
            if not await self.still_signed_in():
                return _SIGNED_OUT
            try:
                frame = _decoder.decode(data)
            except msgspec.DecodeError as exc:
                await self.refuse(f"not an inbox frame: {exc}")
                continue
            try:
                await self.handle(frame)
            except _Ended:
                return _SIGNED_OUT


class _Ended(Exception):
    """The agent's session ended."""


@websocket(LIVE_PATH, include_in_schema=False)
async def inbox_socket(
    socket: WebSocket[Any, Any, Any],
    inbox: NamedDependency[InboxAuth],
    chat: NamedDependency[ChatService],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> None:
    """The agent's live view (see the module's documentation)."""
    await socket.accept()
    if not same_origin(socket, settings):
        await _close(socket, _FOREIGN, "foreign origin")
        return
    session = socket.cookies.get(SESSION_COOKIE)
    agent = await inbox.agent(session)
    if agent is None or session is None:
        await _close(socket, _SIGNED_OUT, "signed out")
        return
    channels = chat.channels
    live = _Live(socket, agent, session, inbox=inbox, chat=chat, db=db, channels=channels,
                 settings=settings.of(InboxSettings))  # fmt: skip
    live.site_ids = await queue.site_ids(db, agent)
    names = [inbox_channel(site_id) for site_id in live.site_ids]
    subscriber = await channels.subscribe(names)
    code: int | None = None
    try:
        async with subscriber.run_in_background(live.send, join=False):
            hello = {
                "t": "hello", "agent": agent.id, "name": agent.display_name,
                "beat_s": live.settings.heartbeat,
            }  # fmt: skip
            await live.send(_encoder.encode(hello))
            await presence.beat(db, live.id, agent, "online", now_ms())
            code = await live.serve()
    except Exception:
        log.exception("inbox socket failed")
        code = 1011
    finally:
        with contextlib.suppress(Exception):
            await live.unwatch()
        with contextlib.suppress(Exception):
            await channels.unsubscribe(subscriber, names)
        with contextlib.suppress(Exception):
            await presence.leave(db, live.id)
    if code is not None:
        await _close(socket, code, "closed")


async def _close(socket: WebSocket[Any, Any, Any], code: int, reason: str) -> None:
    with contextlib.suppress(Exception):
        await socket.close(code=code, reason=reason)


route_handlers = [inbox_socket]
