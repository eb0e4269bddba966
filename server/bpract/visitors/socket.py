"""``/v1/visitor``: the WebSocket route handler joining handshake, connection and channels."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import msgspec
from litestar import WebSocket, websocket
from litestar.di import NamedDependency

from bpract.visitors.connection import Connection, VerifiedIdentity
from bpract.visitors.fallback import ServerEngine
from bpract.visitors.frames import tick_forever
from bpract.visitors.handshake import Accepted, Closed, handshake
from bpract.visitors.hub import VisitorHub
from bpract.wire.channels import site_channel, visitor_channel
from bpract.wire.codes import IDENTITY_REJECTED, CloseCode
from bpract.wire.frames import Config, Rules, Welcome

__all__ = ["route_handlers", "visitor_socket"]

log = logging.getLogger("bpract.visitors")
_rules_decoder = msgspec.json.Decoder(Rules)


async def _welcome(conn: Connection, accepted: Accepted) -> None:
    hub, hello = conn.hub, accepted.hello
    ruleset = await hub.rulesets.engine_ruleset(accepted.site.id)
    if hello.engine == "server":
        conn.engine = await ServerEngine.load(
            hub.db,
            site_id=accepted.site.id,
            visitor=hello.visitor,
            ruleset=ruleset,
            device=hello.device,
            time_scale=hub.settings.time_scale,
        )
        if hello.identity is not None and not accepted.identity_rejected:
            conn.engine.set_identity(hello.identity.user_id, hello.identity.traits)
    if hello.identity is not None and not accepted.identity_rejected:
        conn.identity = VerifiedIdentity(hello.identity.user_id, hello.identity.traits or {})
    config = Config(time_scale=hub.settings.time_scale, raw_events=hello.engine == "server")
    await conn.send(
        Welcome(
            visitor=hello.visitor,
            key=accepted.key,
            stream=hello.stream,
            stored_seq=accepted.stored_seq,
            ruleset=ruleset,
            config=config,
        )
    )
    if accepted.identity_rejected:
        await conn.error(IDENTITY_REJECTED, "identity.user_hash does not sign identity.user_id")
    await hub.frames.opened(conn)


def _channel_handler(conn: Connection) -> Any:
    async def forward(message: bytes) -> None:
        if conn.engine is not None and message.startswith(b'{"t":"rules"'):
            conn.engine.set_ruleset(_rules_decoder.decode(message).ruleset)
        await conn.send_raw(message)

    return forward


async def _run(conn: Connection) -> CloseCode | None:
    channels, site_id, visitor = conn.hub.channels, conn.site.id, conn.hello.visitor
    names = [site_channel(site_id), visitor_channel(site_id, visitor)]
    subscriber = await channels.subscribe(names)
    ticker = None
    try:
        async with subscriber.run_in_background(_channel_handler(conn), join=False):
            if conn.engine is not None:
                ticker = asyncio.create_task(tick_forever(conn, conn.engine))
            return await conn.serve()
    finally:
        await channels.unsubscribe(subscriber, names)
        if ticker is not None:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
        if conn.engine is not None:
            await conn.engine.save()


async def _close(socket: WebSocket[Any, Any, Any], code: int, reason: str) -> None:
    with contextlib.suppress(Exception):  # the peer may already be gone
        await socket.close(code=code, reason=reason)


def _too_many(per: str) -> tuple[CloseCode, str]:
    code = CloseCode.too_many_connections
    return code, f"{code.name}: per {per}"


@websocket("/v1/visitor")
async def visitor_socket(
    socket: WebSocket[Any, Any, Any], visitors: NamedDependency[VisitorHub]
) -> None:
    """The visitor protocol, v1 (docs/protocol.md)."""
    await socket.accept()
    s, gauge = visitors.settings, visitors.connections
    peer = socket.client.host if socket.client else None
    address = visitors.proxies.client(peer, socket.headers)
    address_slot = "address:" + address
    if not gauge.acquire(address_slot, s.max_connections_per_address):
        await _close(socket, *_too_many("address"))
        return
    try:
        await _serve(socket, visitors, address)
    finally:
        gauge.release(address_slot)


async def _serve(socket: WebSocket[Any, Any, Any], hub: VisitorHub, address: str) -> None:
    result = await handshake(socket, hub)
    if result is None:
        return
    if isinstance(result, Closed):
        # once per refused connection, the reason names the field, never its content
        log.info("visitor refused at hello: %s", result.reason)
        await _close(socket, result.code, result.reason)
        return
    site_slot = f"site:{result.site.id}"
    if not hub.connections.acquire(site_slot, hub.settings.max_connections_per_site):
        await _close(socket, *_too_many("site"))
        return
    conn = Connection(socket, hub, result.hello, result.site, address)
    try:
        await _welcome(conn, result)
        code = await _run(conn)
    except Exception:
        log.exception("visitor connection failed")
        code = CloseCode.internal
    finally:
        hub.connections.release(site_slot)
    if code is not None:
        await _close(socket, code, code.name)


route_handlers = [visitor_socket]
