"""The server-side engine for visitors whose browser cannot run one (``engine: "server"``).

The same ``bpract_client`` engine the browser runs: raw ``event`` frames go in,
signals and fires come out and are handled like a browser engine's frames.
Its state lives in ``engine_states`` between connections.
"""

from __future__ import annotations

from typing import Any

from bpract.clock import now_ms
from bpract.store import Database
from bpract.visitors.storage import load_engine_state, save_engine_state
from bpract_client.engine import Engine
from bpract_client.rules import ruleset_from_dict

__all__ = ["ServerEngine"]


class ServerEngine:
    """One visitor's engine, loaded from and saved to the database."""

    def __init__(self, engine: Engine, db: Database, site_id: int, visitor: str) -> None:
        self._engine = engine
        self._db = db
        self._site_id = site_id
        self._visitor = visitor

    @classmethod
    async def load(
        cls,
        db: Database,
        *,
        site_id: int,
        visitor: str,
        ruleset: dict[str, Any],
        device: str,
        time_scale: float,
    ) -> ServerEngine:
        state = await db.run(lambda conn: load_engine_state(conn, site_id, visitor))
        engine = Engine(
            ruleset=ruleset_from_dict(ruleset), state=state, device=device, time_scale=time_scale
        )
        return cls(engine, db, site_id, visitor)

    def handle(self, event: dict[str, Any]) -> list[dict[str, Any]]:
        """Feed one raw event; the frames (signals, fires) it produced."""
        self._engine.handle(event)
        return self._engine.drain()

    def tick(self, at_ms: int) -> list[dict[str, Any]]:
        self._engine.tick(at_ms)
        return self._engine.drain()

    def set_identity(self, user_id: str, traits: dict[str, Any] | None) -> None:
        """A verified identity (the engine never sees an unverified one)."""
        self._engine.set_identity(user_id, traits or {})

    def set_ruleset(self, ruleset: dict[str, Any]) -> None:
        self._engine.set_ruleset(ruleset_from_dict(ruleset))

    async def save(self) -> None:
        state = self._engine.snapshot()
        site_id, visitor, at = self._site_id, self._visitor, now_ms()
        await self._db.transaction(
            lambda conn: save_engine_state(conn, site_id, visitor, state, at)
        )
