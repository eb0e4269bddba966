"""An agent's live socket (``/inbox/live``) for tests: signed in by an AgentClient's cookie."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from inbox.conftest import AgentClient
from support.server import ServerProcess

COOKIE = "bpract_inbox"


def take(agent: AgentClient, conversation: str) -> httpx.Response:
    """Click "Take over" on the conversation's page."""
    token = agent.page_token(f"/inbox/c/{conversation}")
    return agent.post(f"/inbox/c/{conversation}/take", data={"csrf": token})


def release(agent: AgentClient, conversation: str, to: str, **extra: str) -> httpx.Response:
    token = agent.page_token(f"/inbox/c/{conversation}")
    return agent.post(f"/inbox/c/{conversation}/release", data={"csrf": token, "to": to, **extra})


class AgentSocket:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.hello: dict[str, Any] = {}

    @classmethod
    async def open(
        cls, server: ServerProcess, agent: AgentClient | None, *, origin: str | None = None
    ) -> AgentSocket:
        headers = {"Origin": origin if origin is not None else server.url}
        if agent is not None:
            headers["Cookie"] = f"{COOKIE}={agent.cookies[COOKIE]}"
        url = server.ws_url.replace("/v1/visitor", "/inbox/live")
        ws = await connect(url, additional_headers=headers, open_timeout=10)
        socket = cls(ws)
        if agent is not None:
            socket.hello = await socket.recv_until("hello")
        return socket

    async def send(self, frame: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(frame))

    async def recv(self, within: float = 10.0) -> dict[str, Any]:
        data = await asyncio.wait_for(self.ws.recv(), within)
        frame: dict[str, Any] = json.loads(data)
        return frame

    async def recv_until(self, t: str, within: float = 15.0) -> dict[str, Any]:
        """The next frame of type ``t`` (others are skipped)."""
        end = time.monotonic() + within
        while True:
            frame = await self.recv(max(0.05, end - time.monotonic()))
            if frame.get("t") == t:
                return frame

    async def watch(self, conversation: str) -> None:
        await self.send({"t": "watch", "conversation": conversation})

    async def close(self) -> None:
        await self.ws.close()
