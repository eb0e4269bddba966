"""Background visitors, run as a child process: many sockets, each sending a signal now and then.

    python bench/_chatter.py URL --count 200 --every 2 --origin http://… --site pk_…

Every socket says ``hello`` and is answered; then each sends a typical engine
``signal`` every ``--every`` seconds (jittered, so they do not beat in step) and
reads every answer. It prints ``{"event": "connected", …}`` once all sockets are
open, and on reading ``stop`` (or end of input) prints ``{"event": "done", …}``
with the frames sent and acknowledged, then closes its sockets.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Origin

from _wsload import _rid, hello, signal

__all__ = ["main"]


class Chatter:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.sent = self.acked = self.errors = 0
        self.examples: list[str] = []
        self.stop = asyncio.Event()
        self._ramp = asyncio.Semaphore(50)

    async def _open(self) -> ClientConnection:
        async with self._ramp:
            ws = await connect(
                self.args.url, origin=Origin(self.args.origin), compression=None, open_timeout=60
            )
            await ws.send(hello(self.args.site))
            first = json.loads(await asyncio.wait_for(ws.recv(), 60))
            if first.get("t") != "welcome":
                raise RuntimeError(f"answered hello with {first}")
            return ws

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            frame = json.loads(raw)
            if frame.get("t") == "ack":
                self.acked += len(frame.get("seq", []))
            elif frame.get("t") == "error":
                self._error(f"error frame: {frame}")

    def _error(self, what: str) -> None:
        self.errors += 1
        if len(self.examples) < 5:
            self.examples.append(what)

    async def one(self, ws: ClientConnection, rnd: random.Random) -> None:
        reader = asyncio.create_task(self._read(ws))
        session = _rid("n_")
        every = self.args.every
        with contextlib.suppress(TimeoutError):  # a random start: the sockets do not beat in step
            await asyncio.wait_for(self.stop.wait(), rnd.uniform(0, every))
        seq = 0
        while not self.stop.is_set():
            seq += 1
            await ws.send(signal(seq, session))
            self.sent += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), every * rnd.uniform(0.8, 1.2))
        await ws.close()
        await asyncio.wait([reader], timeout=5)

    async def run(self) -> None:
        opened = await asyncio.gather(
            *(self._open() for _ in range(self.args.count)), return_exceptions=True
        )
        sockets = [ws for ws in opened if isinstance(ws, ClientConnection)]
        for failure in opened:
            if isinstance(failure, BaseException):
                self._error(f"open: {failure!r}")
        print(json.dumps({"event": "connected", "connected": len(sockets)}), flush=True)
        rnd = random.Random(7)
        tasks = [asyncio.create_task(self.one(ws, random.Random(rnd.random()))) for ws in sockets]
        await asyncio.to_thread(sys.stdin.readline)  # "stop", or the parent went away
        self.stop.set()
        await asyncio.wait(tasks, timeout=30)
        done = {"event": "done", "sent": self.sent, "acked": self.acked, "errors": self.errors}
        print(json.dumps({**done, "examples": self.examples}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("url")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument(
        "--every", type=float, default=2.0, help="seconds between a socket's frames"
    )
    parser.add_argument("--origin", required=True)
    parser.add_argument("--site", required=True)
    asyncio.run(Chatter(parser.parse_args()).run())


if __name__ == "__main__":
    main()
