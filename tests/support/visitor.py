"""A minimal visitor client for protocol tests: hello, frames, reading until a frame type."""

from __future__ import annotations

import asyncio
import json
import secrets
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

__all__ = ["VisitorClient", "hello_frame", "new_id"]


def new_id(prefix: str) -> str:
    """``v_``/``s_``/``n_`` + 22 url-safe characters, like the browser makes them."""
    return prefix + secrets.token_urlsafe(16)[:22]


def hello_frame(site_key: str, **fields: Any) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "t": "hello",
        "v": 1,
        "site": site_key,
        "visitor": new_id("v_"),
        "stream": new_id("s_"),
        "engine": "pyodide",
        "page": {"url": "http://127.0.0.1/", "title": "Home", "referrer": ""},
        "device": "desktop",
        "lang": "en-GB",
        "tz": "UTC",
        "identity": None,
    }
    frame.update(fields)
    return frame


class VisitorClient:
    """A ``websockets`` connection speaking the visitor protocol, for tests."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    @classmethod
    async def open(cls, url: str, origin: str | None) -> VisitorClient:
        headers = {"Origin": origin} if origin else None
        ws = await connect(url, additional_headers=headers, max_size=2**20, open_timeout=10)
        return cls(ws)

    async def send(self, frame: dict[str, Any] | str) -> None:
        await self.ws.send(frame if isinstance(frame, str) else json.dumps(frame))

    async def recv(self, within: float = 10.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.ws.recv(), within)
        frame: dict[str, Any] = json.loads(raw)
        return frame

    async def recv_until(
        self, t: str, within: float = 10.0
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """The first frame of type ``t`` and the frames before it."""
        skipped: list[dict[str, Any]] = []
        async with asyncio.timeout(within):
            while True:
                frame = await self.recv(within)
                if frame["t"] == t:
                    return frame, skipped
                skipped.append(frame)

    async def hello(self, site_key: str, **fields: Any) -> dict[str, Any]:
        """Send hello, return the welcome."""
        frame = hello_frame(site_key, **fields)
        self.visitor, self.stream = frame["visitor"], frame["stream"]
        await self.send(frame)
        welcome = await self.recv()
        assert welcome["t"] == "welcome", welcome
        self.key = welcome.get("key")
        return welcome

    async def acks(self, count: int, within: float = 20.0) -> list[int]:
        """Collect acknowledged seqs until ``count`` were seen (other frames ignored)."""
        seen: list[int] = []
        async with asyncio.timeout(within):
            while len(seen) < count:
                frame = await self.recv(within)
                if frame["t"] == "ack":
                    seen.extend(frame["seq"])
        return seen

    async def close(self) -> None:
        await self.ws.close()
