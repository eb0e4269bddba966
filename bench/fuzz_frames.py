"""Hostile frames over many connections, beside well-behaved visitors: nothing crashes or leaks.

    uv run python bench/fuzz_frames.py [--frames 100000] [--connections 50] [--seed 1] [--json]

Starts ``bpract serve`` on a fresh SQLite file.  ``--connections`` hostile
sockets (half ``engine: pyodide``, half ``engine: server``) send mutations of
valid frames — wrong types, huge numbers, deep nesting, invalid UTF-8,
oversized frames, unknown tags, truncated JSON, valid frames with seqs out of
order — in chunks, each chunk followed by a ``ping`` whose ``pong`` paces the
next; a closed socket reconnects, sometimes with a hostile first frame.  Beside
them two well-behaved visitors (one of each engine) send numbered frames and
check every acknowledgement.  Prints three figures, each of which must be 0:

- crashes: the server exited, ``/health`` failed, a socket closed with 1011,
  or a traceback in the server's log;
- others affected: a well-behaved visitor closed or answered with an error;
- accepted events lost: acknowledged seqs (of anyone) missing from the database.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import apsw
import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from _support import UNTHROTTLED, add_site, bpract_serve, exit_on_sigterm

ORIGIN = "http://127.0.0.1:9"
CHUNK = 40
MAX_FRAME = 16 * 1024
TIMEOUT_S = 900.0
SERVER_ENV = {**UNTHROTTLED, "BPRACT_HELLO_TIMEOUT": "60"}
HUGE: list[Any] = [2**53 + 1, 2**63, -(2**63) - 1, 2**64, 10**30, 1e20, -1e20, 1e308, -1, -1.5]
LITERALS = ["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "9" * 400, "0x10", "01", "1."]


def _rid(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choices("abcdefghijklmnopqrstuvwxyz0123456789_-", k=22))


def hello(site: str, visitor: str, stream: str, engine: str) -> str:
    return json.dumps(
        {"t": "hello", "v": 1, "site": site, "visitor": visitor, "stream": stream,
         "engine": engine, "page": {"url": "http://127.0.0.1/p", "title": "P", "referrer": ""},
         "device": "desktop", "lang": "en", "tz": "UTC", "identity": None}
    )  # fmt: skip


# -- mutations ------------------------------------------------------------------------------


def _raw_event(rng: random.Random, at: Any) -> dict[str, Any]:
    kind = rng.choice(["page", "act", "scroll", "click", "vis", "ecom", "track", "identify", "x"])
    event: dict[str, Any] = {"k": kind, "at": at}
    extra: dict[str, Any] = {
        "page": {"url": "https://w.example/p?" + str(rng.random()), "title": "T", "nav": "push"},
        "scroll": {"pct": rng.choice([50, 1e20, -3, "x"])},
        "click": {"x": rng.randint(0, 2000), "y": rng.choice([5, 2**70]), "target": "a#b"},
        "vis": {"visible": rng.choice([True, False, "yes"])},
        "ecom": {"name": "add_to_cart",
                 "items": [{"id": "s", "price": rng.choice([9.5, 1e300]), "qty": 2**64}]},
        "track": {"name": "t", "props": {"a": rng.choice([1, "b", None, [1, 2], {"c": 1}])}},
        "identify": {"user_id": "1", "user_hash": "00" * 32, "traits": {"plan": "pro"}},
    }.get(kind, {})  # fmt: skip
    event.update(extra)
    return event


def _valid(rng: random.Random, seq: int, server: bool) -> dict[str, Any]:
    """A frame the server accepts (or refuses by its meaning, not its shape)."""
    at = rng.randint(0, 2**41)
    kind = rng.choice(["signal", "event" if server else "signal", "fire", "outcome", "identify"])
    base: dict[str, Any] = {"t": kind, "seq": seq, "at": at}
    if kind == "signal":
        base |= {"session": "n_abcdef", "name": "dwell", "data": {"seconds": rng.randint(0, 99)}}
    elif kind == "event":
        base |= {"event": _raw_event(rng, at)}
    elif kind == "fire":
        base |= {"rule": "no-such-rule", "rule_version": 1, "context": {"page": "/p"}}
    elif kind == "outcome":
        base |= {"outreach": "o_nosuch", "kind": "shown"}
    else:
        base |= {"user_id": "7", "user_hash": "00" * 32, "traits": {"a": 1}}
    return base


def _nest(depth: int) -> Any:
    value: Any = 1
    for n in range(depth):
        value = [value] if n % 2 else {"a": value}
    return value


def _deep_text(rng: random.Random) -> str:
    depth = rng.choice([9, 64, 300, 1500, 5000])
    return '{"t":"signal","seq":1,"at":1,"name":"x","data":{"a":' + "[" * depth + "]" * depth + "}}"


class Mutator:
    """Hostile frames of one connection, as text or bytes."""

    def __init__(self, rng: random.Random, server: bool) -> None:
        self.rng, self.server = rng, server
        self.kinds: list[tuple[str, Callable[[], str | bytes]]] = [
            ("valid", lambda: json.dumps(self.valid())),
            ("wrong_type", self.wrong_type),
            ("huge_number", self.huge_number),
            ("bad_literal", self.bad_literal),
            ("deep", lambda: _deep_text(self.rng)),
            ("deep_free", self.deep_free),
            ("bad_utf8", self.bad_utf8),
            ("unknown_tag", self.unknown_tag),
            ("truncated", self.truncated),
            ("not_object", lambda: self.rng.choice(["[1,2]", '"s"', "7", "null", "", " "])),
            ("too_many_keys", self.too_many_keys),
            ("long_string", self.long_string),
            ("random_bytes", lambda: self.rng.randbytes(self.rng.randint(1, 300))),
            ("server_frame", lambda: json.dumps({"t": "ack", "seq": [1]})),
            ("second_hello", lambda: hello("pk_x", "v_abc", "s_abc", "pyodide")),
            ("event_1e20", self.event_1e20),
            ("oversized", self.oversized),
        ]
        self.weights = [30, 10, 10, 6, 4, 4, 6, 4, 6, 3, 3, 3, 4, 2, 1, 4, 1]

    def pick(self) -> tuple[str, str | bytes]:
        name, make = self.rng.choices(self.kinds, self.weights)[0]
        return name, make()

    def valid(self) -> dict[str, Any]:
        return _valid(self.rng, self.rng.randint(1, 400), self.server)  # out of order, repeated

    def wrong_type(self) -> str:
        frame = self.valid()
        key = self.rng.choice(list(frame))
        frame[key] = self.rng.choice([None, True, "x", 1.5, [], {}, [1], {"a": 1}, -1])
        return json.dumps(frame)

    def huge_number(self) -> str:
        frame = self.valid()
        where = self.rng.choice(["seq", "at", "data", "context", "event", "traits", "rule_version"])
        value = self.rng.choice(HUGE)
        if where in {"seq", "at", "rule_version"}:
            frame[where] = value
        elif where == "event":
            frame = {"t": "event", "seq": frame["seq"], "at": 1, "event": _raw_event(self.rng, 1)}
            frame["event"][self.rng.choice(["at", "pct", "x", "n"])] = value
        else:
            frame[where] = {"n": value, "deep": [{"m": value}]}
        return json.dumps(frame)

    def bad_literal(self) -> str:
        text = json.dumps(self.valid())
        return text.replace('"at": ', '"at": ' + self.rng.choice(LITERALS) + " + ", 1).replace(
            " + ", "", 1
        )[: len(text) + 400]

    def deep_free(self) -> str:
        frame = _valid(self.rng, self.rng.randint(1, 400), self.server)
        frame["t"], frame["name"] = "signal", "x"
        frame["data"] = {"a": _nest(self.rng.choice([9, 12, 40, 200]))}
        return json.dumps(frame)

    def bad_utf8(self) -> bytes:
        body = json.dumps(self.valid()).encode()
        cut = self.rng.randint(0, len(body))
        return (
            body[:cut]
            + self.rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\xf8\x88"])
            + body[cut:]
        )

    def unknown_tag(self) -> str:
        frame = self.valid()
        frame["t"] = self.rng.choice(["teleport", "", "HELLO", "signal ", "welcome", 5, None])
        return json.dumps(frame)

    def truncated(self) -> str:
        text = json.dumps(self.valid())
        return text[: self.rng.randint(0, len(text) - 1)]

    def too_many_keys(self) -> str:
        frame = _valid(self.rng, self.rng.randint(1, 400), self.server)
        frame["t"], frame["name"] = "signal", "x"
        frame["data"] = {str(n): n for n in range(self.rng.choice([1001, 1050]))}
        return json.dumps(frame)

    def long_string(self) -> str:
        frame = self.valid()
        field_ = self.rng.choice(["name", "session", "rule", "user_id", "data"])
        text = "x" * self.rng.choice([65, 300, 9000])
        frame[field_] = {"s": text} if field_ == "data" else text
        return json.dumps(frame)

    def event_1e20(self) -> str:
        event = _raw_event(self.rng, 1e20)
        return json.dumps({"t": "event", "seq": self.rng.randint(1, 400), "at": 1, "event": event})

    def oversized(self) -> str:
        return json.dumps({"t": "signal", "seq": 1, "at": 1, "name": "x",
                           "data": {"pad": "x" * (MAX_FRAME + 10)}})  # fmt: skip


def hostile_first_frame(rng: random.Random) -> str | bytes:
    return rng.choice(
        ["garbage", _deep_text(rng), b"\xff\xfe{}", '{"t":"ping"}', '{"t":"hello","v":1}', "[]"]
    )


# -- connections --------------------------------------------------------------------------


@dataclass
class Tally:
    sent: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    closes: Counter[str] = field(default_factory=Counter)
    acked: set[tuple[str, str, int]] = field(default_factory=set)
    affected: list[str] = field(default_factory=list)
    health_failures: int = 0


class Socket:
    """One connection with a reader task: acks recorded, pongs awaited, the close code kept."""

    def __init__(self, ws: ClientConnection, visitor: str, stream: str, tally: Tally) -> None:
        self.ws, self.visitor, self.stream, self.tally = ws, visitor, stream, tally
        self.pong = asyncio.Event()
        self.errors: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self.reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        try:
            async for raw in self.ws:
                frame = json.loads(raw)
                t = frame.get("t")
                self.tally.answers[t if t != "error" else f"error:{frame.get('code')}"] += 1
                if t == "ack":
                    for seq in frame["seq"]:
                        self.tally.acked.add((self.visitor, self.stream, seq))
                elif t == "pong":
                    self.pong.set()
                elif t == "error":
                    self.errors.append(frame)
        except ConnectionClosed:
            pass
        self.close_code = self.ws.close_code or 1006  # 1006: gone without a close frame
        self.pong.set()

    async def sync(self) -> bool:
        """Ping and wait for the pong (every earlier frame has been answered); False if closed."""
        self.pong.clear()
        try:
            await self.ws.send('{"t":"ping"}')
        except ConnectionClosed:
            return False
        await self.pong.wait()
        return self.close_code is None


async def open_socket(
    url: str, site: str, visitor: str, stream: str, engine: str, tally: Tally
) -> Socket:
    ws = await connect(url, additional_headers={"Origin": ORIGIN}, max_size=2**22,
                       open_timeout=30, compression=None)  # fmt: skip
    await ws.send(hello(site, visitor, stream, engine))
    welcome = json.loads(await asyncio.wait_for(ws.recv(), 30))
    if welcome.get("t") != "welcome":
        raise RuntimeError(f"no welcome: {welcome}")
    return Socket(ws, visitor, stream, tally)


async def refused_first_frame(url: str, rng: random.Random, tally: Tally) -> None:
    async with connect(url, additional_headers={"Origin": Origin(ORIGIN)}, open_timeout=30) as ws:
        await ws.send(hostile_first_frame(rng))
        with contextlib.suppress(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 30)
        tally.closes[f"first frame: {ws.close_code or 1006}"] += 1
        tally.sent["first_frame"] += 1


async def hostile(url: str, site: str, index: int, quota: int, seed: int, tally: Tally) -> None:
    rng = random.Random(seed * 1_000_003 + index)
    engine = "server" if index % 2 else "pyodide"
    mutator = Mutator(rng, engine == "server")
    visitor, stream = _rid(rng, "v_"), _rid(rng, "s_")
    sock = await open_socket(url, site, visitor, stream, engine, tally)
    sent, last = 0, ""
    while sent < quota:
        closing = False
        for _ in range(min(CHUNK, quota - sent)):
            name, payload = mutator.pick()
            last = name
            tally.sent[name] += 1
            sent += 1
            try:
                await sock.ws.send(payload)
            except ConnectionClosed:
                break
            if name == "oversized":
                closing = True
                break
        if closing or not await sock.sync():
            await sock.reader
            await sock.ws.close()
            tally.closes[f"{last}: {sock.close_code or 1006}"] += 1
            if rng.random() < 0.5:
                await refused_first_frame(url, rng, tally)
            sock = await open_socket(url, site, visitor, stream, engine, tally)
    await sock.ws.close()
    await sock.reader


def numbered(engine: str, seq: int, at: int) -> dict[str, Any]:
    """Frame ``seq`` of a well-behaved visitor: raw events for the server's engine, else signals."""
    if engine == "pyodide":
        data = {"n": seq}
        return {"t": "signal", "seq": seq, "at": at, "session": "n_goodgood", "name": "dwell",
                "data": data}  # fmt: skip
    event: dict[str, Any] = {"k": "act", "at": at}
    if seq % 5 == 1:
        event = {"k": "page", "at": at, "url": f"https://w.example/p{seq}", "nav": "push"}
    return {"t": "event", "seq": seq, "at": at, "event": event}


async def well_behaved(url: str, site: str, engine: str, stop: asyncio.Event, tally: Tally) -> int:
    """Numbered frames, eight in flight; every one acknowledged, nothing else but pongs."""
    rng = random.Random(engine)
    visitor, stream = _rid(rng, "v_"), _rid(rng, "s_")
    sock = await open_socket(url, site, visitor, stream, engine, tally)
    seq, start = 0, int(time.time() * 1000)
    while not stop.is_set() and sock.close_code is None:
        for _ in range(8):
            seq += 1
            await sock.ws.send(json.dumps(numbered(engine, seq, start + seq)))
        if not await sock.sync():
            break
        await asyncio.sleep(0.005)
    closed = sock.close_code
    await sock.ws.close()
    await sock.reader
    mine = {s for v, st, s in tally.acked if v == visitor and st == stream}
    if closed is not None:
        tally.affected.append(f"{engine} visitor closed with {closed}")
    tally.affected.extend(f"{engine} visitor got {e}" for e in sock.errors)
    if mine != set(range(1, seq + 1)):
        tally.affected.append(f"{engine} visitor: {seq - len(mine)} of {seq} frames not acked")
    return seq


async def watch_health(base: str, stop: asyncio.Event, tally: Tally) -> None:
    async with httpx.AsyncClient(timeout=10) as client:
        while not stop.is_set():
            try:
                if (await client.get(f"{base}/health")).status_code != 200:
                    tally.health_failures += 1
            except httpx.HTTPError:
                tally.health_failures += 1
            await asyncio.sleep(1.0)


async def run(base: str, site: str, args: argparse.Namespace, tally: Tally) -> dict[str, int]:
    url = base.replace("http", "ws", 1) + "/v1/visitor"
    stop = asyncio.Event()
    health = asyncio.create_task(watch_health(base, stop, tally))
    good = [
        asyncio.create_task(well_behaved(url, site, e, stop, tally)) for e in ("pyodide", "server")
    ]
    quota, extra = divmod(args.frames, args.connections)
    bad = [
        hostile(url, site, i, quota + (i < extra), args.seed, tally)
        for i in range(args.connections)
    ]
    try:
        async with asyncio.timeout(TIMEOUT_S):
            await asyncio.gather(*bad)
    finally:
        stop.set()
    counts = await asyncio.gather(*good)
    await health
    return {"pyodide": counts[0], "server": counts[1]}


def missing(db: Path, acked: set[tuple[str, str, int]]) -> int:
    conn = apsw.Connection(str(db), flags=apsw.SQLITE_OPEN_READONLY)
    try:
        stored = set(conn.execute("SELECT visitor, stream, seq FROM frames"))
    finally:
        conn.close()
    return len(acked - stored)


def first_traceback(text: str) -> list[str]:
    """The end of the log's first traceback, to say what broke (the log has no frame bodies)."""
    if "Traceback" not in text:
        return []
    lines = text[text.index("Traceback") :].splitlines()
    end = next((n for n, line in enumerate(lines[1:], 1) if not line.startswith(" ")), 0)
    return lines[max(0, end - 10) : end + 1]


def healthy(base: str) -> bool:
    try:
        return httpx.get(f"{base}/health", timeout=10).status_code == 200
    except httpx.HTTPError:
        return False


def report(args: argparse.Namespace, tally: Tally, outcome: dict[str, Any]) -> dict[str, Any]:
    crash_parts = {
        "server_exited": int(not outcome["alive"]),
        "health_failures": tally.health_failures,
        "closes_1011": sum(n for k, n in tally.closes.items() if k.endswith(": 1011")),
        "tracebacks": outcome["log"].count("Traceback"),
    }
    return {
        "crashes": sum(crash_parts.values()),
        "others_affected": len(tally.affected),
        "accepted_events_lost": outcome["lost"],
        "hostile_frames": sum(tally.sent.values()),
        "connections": args.connections,
        "seconds": outcome["seconds"],
        "well_behaved_frames": outcome["good"],
        "acked": len(tally.acked),
        "sent": dict(tally.sent.most_common()),
        "answers": dict(tally.answers.most_common()),
        "closes": dict(sorted(tally.closes.items())),
        "crash_parts": crash_parts,
        "affected": tally.affected[:10],
        "first_traceback": first_traceback(outcome["log"]),
    }


FIGURES = ("crashes", "others_affected", "accepted_events_lost")


def show(figures: dict[str, Any]) -> None:
    print(
        f"{figures['hostile_frames']:,} hostile frames over {figures['connections']} connections"
        f" in {figures['seconds']} s; well-behaved frames acked: {figures['well_behaved_frames']}"
    )
    for key in ("sent", "answers", "closes", "crash_parts"):
        print(f"  {key}: {figures[key]}")
    for line in figures["affected"]:
        print(f"  affected: {line}")
    for line in figures["first_traceback"]:
        print(f"  server log: {line}")
    for name in FIGURES:
        print(f"{name.replace('_', ' '):>22}: {figures[name]}")


def main() -> int:
    exit_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    tally = Tally()
    with tempfile.TemporaryDirectory(prefix="bpract-fuzz-") as tmp_dir:
        tmp = Path(tmp_dir)
        db, log = tmp / "fuzz.db", tmp / "server.log"
        site = add_site(db, ORIGIN)
        started = time.monotonic()
        with bpract_serve(db, log, SERVER_ENV) as server:
            good = asyncio.run(run(server.url, site, args, tally))
            alive = healthy(server.url)
        outcome = {
            "good": good,
            "alive": alive,
            "seconds": round(time.monotonic() - started, 1),
            "log": log.read_text(errors="replace"),
            "lost": missing(db, tally.acked),
        }
    figures = report(args, tally, outcome)
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        show(figures)
    return 1 if any(figures[name] for name in FIGURES) else 0


if __name__ == "__main__":
    sys.exit(main())
