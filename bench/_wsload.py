"""WebSocket load generator, run as a child process: many connections, closed-loop acked frames.

    python bench/_wsload.py URL --count 1000 --frames 30 --origin http://… --site pk_…

Speaks to its parent in lines: it prints ``{"event": "connected", …}`` once
every socket has said hello and been answered, runs the frames when it reads
``go`` on stdin, prints ``{"event": "done", …}``, and closes its sockets when
it reads ``close``.  Each socket sends one frame at a time and waits for the
answer (an ``ack`` naming its seq from the visitor server, the frame itself
from an echo server) before sending the next.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from dataclasses import dataclass, field

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

__all__ = ["LoadConfig", "main"]


@dataclass(frozen=True, slots=True)
class LoadConfig:
    url: str
    count: int
    frames: int
    origin: str
    site: str
    ramp: int = 50
    timeout_s: float = 120.0


@dataclass(slots=True)
class Tally:
    connected: int = 0
    failures: int = 0
    frames: int = 0
    errors: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)

    def fail(self, what: str) -> None:
        self.failures += 1
        if len(self.errors) < 5:  # a few examples are enough to say what went wrong
            self.errors.append(what)


def _rid(prefix: str) -> str:
    return prefix + secrets.token_urlsafe(16)[:22]


def hello(site: str) -> str:
    return json.dumps(
        {
            "t": "hello",
            "v": 1,
            "site": site,
            "visitor": _rid("v_"),
            "stream": _rid("s_"),
            "engine": "pyodide",
            "device": "desktop",
            "lang": "en-GB",
            "tz": "UTC",
            "page": {"url": "http://127.0.0.1/pricing", "title": "Pricing", "referrer": ""},
            "identity": None,
        }
    )


def signal(seq: int, session: str) -> str:
    """A typical engine frame: an attentive-dwell signal on the pricing page."""
    return json.dumps(
        {
            "t": "signal",
            "seq": seq,
            "at": int(time.time() * 1000),
            "session": session,
            "name": "dwell",
            "data": {"path": "/pricing", "seconds": 60},
        }
    )


def answered(sent: str, reply: str | bytes, seq: int) -> bool:
    """An echo of ``sent``, or the visitor server's ack of ``seq``."""
    if reply == sent:
        return True
    frame = json.loads(reply)
    return frame.get("t") == "ack" and seq in frame.get("seq", [])


class Load:
    """The sockets of one load process and what they measured."""

    def __init__(self, config: LoadConfig) -> None:
        self.config = config
        self.tally = Tally()
        self.go = asyncio.Event()
        self.close = asyncio.Event()
        self.all_open = asyncio.Event()
        self.all_done = asyncio.Event()
        self.finished = 0
        self._ramp = asyncio.Semaphore(config.ramp)

    async def _open(self) -> ClientConnection:
        async with self._ramp:
            ws = await connect(
                self.config.url,
                origin=Origin(self.config.origin),
                compression=None,
                open_timeout=60,
                max_size=2**16,
            )
            await ws.send(hello(self.config.site))
            first = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if first.get("t") not in ("welcome", "hello"):  # the echo server returns the hello
                raise RuntimeError(f"answered hello with {first}")
            return ws

    async def _exchange(self, ws: ClientConnection) -> None:
        session = _rid("n_")
        for seq in range(1, self.config.frames + 1):
            frame = signal(seq, session)
            started = time.perf_counter()
            await ws.send(frame)
            reply = await ws.recv()
            if not answered(frame, reply, seq):  # e.g. an error frame: reported, ends this socket
                raise RuntimeError(f"frame {seq} answered with {reply!r}")
            self.tally.latencies_ms.append((time.perf_counter() - started) * 1000)
            self.tally.frames += 1

    async def one(self) -> None:
        try:
            ws = await self._open()
        except Exception as exc:  # counted and reported: a refused socket is a result too
            self.tally.fail(f"open: {exc!r}")
            self._settled()
            return
        self.tally.connected += 1
        self._settled()
        try:
            await self.go.wait()
            await self._exchange(ws)
        except Exception as exc:
            self.tally.fail(f"frames: {exc!r}")
        self.finished += 1
        if self.finished >= self.tally.connected:
            self.all_done.set()
        await self.close.wait()
        await ws.close()

    def _settled(self) -> None:
        if self.tally.connected + self.tally.failures >= self.config.count:
            self.all_open.set()


def _emit(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


async def _line() -> str:
    line: str = await asyncio.to_thread(sys.stdin.readline)
    return line.strip()


async def run(config: LoadConfig) -> None:
    load = Load(config)
    tasks = [asyncio.create_task(load.one()) for _ in range(config.count)]
    await asyncio.wait_for(load.all_open.wait(), config.timeout_s)
    _emit("connected", connected=load.tally.connected, failures=load.tally.failures)
    if await _line() != "go":
        raise SystemExit("expected go")
    began = time.perf_counter()
    load.go.set()
    if load.tally.connected == 0:
        load.all_done.set()
    try:
        await asyncio.wait_for(load.all_done.wait(), config.timeout_s)
    except TimeoutError:
        load.tally.fail("deadline")
    t = load.tally
    _emit(
        "done",
        seconds=time.perf_counter() - began,
        frames=t.frames,
        failures=t.failures,
        errors=t.errors,
        latencies_ms=[round(x, 3) for x in t.latencies_ms],
    )
    await _line()
    load.close.set()
    await asyncio.wait(tasks, timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--frames", type=int, required=True)
    parser.add_argument("--origin", required=True)
    parser.add_argument("--site", required=True)
    args = parser.parse_args()
    asyncio.run(run(LoadConfig(args.url, args.count, args.frames, args.origin, args.site)))


if __name__ == "__main__":
    main()
