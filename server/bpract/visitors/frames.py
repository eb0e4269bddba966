"""The frames the visitor feature handles itself: identities, signals, raw events."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from bpract.clock import now_ms
from bpract.sites import verify_identity
from bpract.visitors.connection import Connection, VerifiedIdentity
from bpract.visitors.fallback import ServerEngine
from bpract.visitors.storage import apply_identity
from bpract.visitors.writer import RowRefused, SignalRow
from bpract.wire.codes import IDENTITY_REJECTED
from bpract.wire.frames import Event, Fire, Identify, Signal
from bpract.wire.handlers import ENGINE_SEQ, FollowUp, FrameHandlers, Visit

__all__ = ["engine_output", "register", "tick_forever"]

log = logging.getLogger("bpract.visitors")
_REJECTED = "user_hash does not sign user_id"


def register(frames: FrameHandlers) -> None:
    frames.on(Signal, _signal)
    frames.on(Identify, _identify)
    frames.on(Event, _event)


def _conn(visit: Visit) -> Connection:
    assert isinstance(visit, Connection)  # these handlers are the connection's own
    return visit


async def _signal(_visit: Visit, _frame: Signal) -> None:
    return None  # stored with its frame, in the same batch


async def _identify(visit: Visit, frame: Identify) -> FollowUp | None:
    conn = _conn(visit)

    async def apply() -> None:
        await _verified(conn, frame.user_id, frame.user_hash, frame.traits, frame.seq)

    return apply


async def _event(visit: Visit, frame: Event) -> FollowUp | None:
    conn = _conn(visit)
    engine = conn.engine
    if engine is None:
        return None  # a browser engine's raw event: stored only

    async def feed() -> None:
        event = frame.event
        if event.get("k") == "identify":
            user_id, user_hash = event.get("user_id"), event.get("user_hash")
            traits = event.get("traits") if isinstance(event.get("traits"), dict) else None
            if isinstance(user_id, str) and isinstance(user_hash, str):
                await _verified(conn, user_id, user_hash, traits, frame.seq)
            else:
                await conn.error(IDENTITY_REJECTED, _REJECTED, frame.seq)
            return
        try:
            await engine_output(conn, engine.handle(event))
        except RowRefused as exc:  # what this event made: refused for this visitor only
            await conn.storage_refused(exc, frame.seq)

    return feed


async def _verified(
    conn: Connection, user_id: str, user_hash: str, traits: dict[str, Any] | None, seq: int
) -> None:
    """Apply an identity whose hash checks out; otherwise say it was rejected."""
    if not verify_identity(conn.site.identity_secret, user_id, user_hash):
        await conn.error(IDENTITY_REJECTED, _REJECTED, seq)
        return
    traits_json = json.dumps(traits) if traits is not None else None
    site_id, visitor = conn.site.id, conn.visitor
    await conn.hub.db.transaction(
        lambda c: apply_identity(c, site_id, visitor, user_id, traits_json)
    )
    conn.identity = VerifiedIdentity(user_id, traits or {})
    if conn.engine is not None:
        conn.engine.set_identity(user_id, traits)


async def engine_output(conn: Connection, frames: list[dict[str, Any]]) -> None:
    """Handle what the server-side engine produced, as if a browser engine had sent it."""
    for out in frames:
        if out.get("t") == "signal":
            row = SignalRow(
                conn.site.id, conn.visitor, out.get("session"), str(out["name"]), int(out["at"]),
                json.dumps(out.get("data") or {}),
            )  # fmt: skip
            await conn.hub.writer.store(None, row)
        elif out.get("t") == "fire":
            try:
                fire = Fire(
                    seq=ENGINE_SEQ, at=int(out["at"]), session=out.get("session"),
                    rule=str(out["rule"]), rule_version=int(out["rule_version"]),
                    context=dict(out.get("context") or {}),
                )  # fmt: skip
            except ValueError as exc:  # the wire's bounds hold for the server's engine too
                log.warning("server engine fire dropped: %s (site %d)", exc, conn.site.id)
                continue
            follow_up = await conn.handle(fire)
            if follow_up is not None:
                await follow_up()


async def tick_forever(conn: Connection, engine: ServerEngine) -> None:
    """Tick the server-side engine while connected; its state is saved every tick."""
    while not conn.closed:
        await asyncio.sleep(conn.hub.settings.engine_tick)
        try:
            await engine_output(conn, engine.tick(now_ms()))
        except RowRefused as exc:
            log.warning("server engine output not stored: %s (site %d)", exc, conn.site.id)
        await engine.save()
