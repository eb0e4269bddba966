"""Placeholder until presence lands (replaced by the presence module)."""

from __future__ import annotations

from bpract.inbox.storage import Agent
from bpract.store import Database


async def beat(db: Database, conn_id: str, agent: Agent, state: str, now_ms: int) -> None:
    return None


async def leave(db: Database, conn_id: str) -> None:
    return None


async def leave_agent(db: Database, agent_id: int) -> None:
    return None
