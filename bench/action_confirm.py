"""Confirm → business API → result: our overhead over calling the same API directly, one run.

A business API stand-in runs in its own process on 127.0.0.1 and writes into each answer
the moments (``time.monotonic_ns``, one clock for every process here) it received the
request and sent its answer. For each card, alternately:

(a) httpx posts the same refund straight to the API, with an idempotency key and the
    bearer key: (received − sent) + (answer read − answered);
(b) a signed-in visitor of a real ``bpract serve`` sends the card's ``confirm`` frame:
    (received − frame sent) + (``action_result`` read − answered) — the token check, the
    claim under the write lock, the audit, the guarded client, storing the result and
    the channel hop back to the socket.

Our overhead is (b) − (a). Budget: ≤ 15 ms p50. The cards themselves are made by the
offline matcher from a chat message before each confirm; that time is not counted.

    uv run python bench/action_confirm.py [confirms]        # default 200
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from _support import (
    OFFLINE_CHAT,
    UNTHROTTLED,
    Row,
    bpract_serve,
    free_port,
    machine,
    median,
    percentile,
    print_table,
)

ORIGIN = "http://127.0.0.1:8765"
BUDGET_MS = 15.0
API_KEY = "bench-api-key"
USER = "u_bench"

API = textwrap.dedent(
    """
    import asyncio, json, sys, time

    async def serve(reader, writer):
        try:
            await answer_all(reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client closed its keep-alive connection
        finally:
            writer.close()

    async def answer_all(reader, writer):
        while True:
            head = await reader.readuntil(b"\\r\\n\\r\\n")
            got = time.monotonic_ns()
            length = 0
            for line in head.split(b"\\r\\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            body = json.loads(await reader.readexactly(length)) if length else {}
            if head.startswith(b"GET /health"):
                answer = b"{}"
            else:
                answer = json.dumps({"amount_cents": body.get("amount_cents"), "currency": "EUR",
                                     "t_recv": got, "t_send": time.monotonic_ns()}).encode()
            writer.write(b"HTTP/1.1 200 OK\\r\\ncontent-type: application/json\\r\\n"
                         b"content-length: %d\\r\\n\\r\\n%s" % (len(answer), answer))
            await writer.drain()

    async def main():
        server = await asyncio.start_server(serve, "127.0.0.1", int(sys.argv[1]))
        async with server:
            await server.serve_forever()

    asyncio.run(main())
    """
)


def actions_yaml(api_url: str) -> str:
    return textwrap.dedent(
        f"""
        version: 1
        base_url: {api_url}
        actions:
          - name: refund_damaged_item
            description: Refund part of the last charge for an item that arrived damaged.
            examples: ["My jacket arrived torn, I want a refund", "The item I received is damaged"]
            method: POST
            path: /accounts/{{account_id}}/refunds
            kind: write
            irreversible: true
            parameters:
              type: object
              properties:
                account_id: {{type: string, from: identity.user_id}}
                amount_cents: {{type: integer, minimum: 1}}
              required: [account_id, amount_cents]
            auth: {{env: BENCH_API_KEY}}
            result: {{t_recv: received, t_send: answered}}
            messages: {{success: "{{t_recv}} {{t_send}}"}}
        """
    )


def _bpract(*args: str, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bpract", *args], check=True, capture_output=True, text=True,
        env=env,
    )  # fmt: skip
    return done.stdout


class Visitor:
    def __init__(self, url: str, key: str, secret: str) -> None:
        self.url, self.key, self.secret, self.seq = url, key, secret, 0
        self.ws: object = None

    async def open(self) -> None:
        self.ws = await connect(self.url, additional_headers={"Origin": ORIGIN})
        mac = hmac.new(self.secret.encode(), USER.encode(), hashlib.sha256).hexdigest()
        hello = {"t": "hello", "v": 1, "site": self.key, "visitor": "v_bench000000000000001",
                 "stream": f"s_bench{time.time_ns() % 10**15:015d}", "lang": "en",
                 "identity": {"user_id": USER, "user_hash": mac}}  # fmt: skip
        await self.send(hello)
        while (await self.recv())["t"] != "welcome":
            pass

    async def send(self, frame: dict[str, object]) -> None:
        await self.ws.send(json.dumps(frame))  # type: ignore[attr-defined]

    async def recv(self) -> dict[str, object]:
        got: dict[str, object] = json.loads(await asyncio.wait_for(self.ws.recv(), 30))  # type: ignore[attr-defined]
        return got

    async def card(self) -> str:
        self.seq += 1
        await self.send({"t": "message", "seq": self.seq, "at": int(time.time() * 1000),
                         "text": "My jacket arrived torn, I want a refund of €1"})  # fmt: skip
        while True:
            got = await self.recv()
            if got["t"] == "action":
                return str(got["token"])
            if got["t"] == "reply_end" and got.get("kind") != "action":
                raise RuntimeError(f"no card: {got}")

    async def confirm(self, token: str) -> tuple[int, int, int, int]:
        self.seq += 1
        frame = {"t": "confirm", "seq": self.seq, "at": int(time.time() * 1000), "token": token}
        sent = time.monotonic_ns()
        await self.send(frame)
        while True:
            got = await self.recv()
            if got["t"] == "action_result":
                done = time.monotonic_ns()
                if got["state"] != "succeeded":
                    raise RuntimeError(f"confirm failed: {got}")
                received, answered = (int(x) for x in str(got["text"]).split())
                return sent, received, answered, done


async def direct(client: httpx.AsyncClient, api_url: str, n: int) -> tuple[int, int, int, int]:
    sent = time.monotonic_ns()
    resp = await client.post(
        f"{api_url}/accounts/{USER}/refunds", json={"amount_cents": 1},
        headers={"Authorization": f"Bearer {API_KEY}", "Idempotency-Key": f"direct-{n}"},
    )  # fmt: skip
    done = time.monotonic_ns()
    body = resp.json()
    return sent, int(body["t_recv"]), int(body["t_send"]), done


def _overhead(t: tuple[int, int, int, int]) -> float:
    sent, received, answered, done = t
    return ((received - sent) + (done - answered)) / 1e6


async def measure(
    url: str, key: str, secret: str, api_url: str, n: int
) -> tuple[list[float], list[float]]:
    visitor = Visitor(url, key, secret)
    await visitor.open()
    ours: list[float] = []
    theirs: list[float] = []
    async with httpx.AsyncClient() as client:
        for i in range(n + 10):
            token = await visitor.card()
            a = _overhead(await direct(client, api_url, i))
            b = _overhead(await visitor.confirm(token))
            if i >= 10:  # warm-up: connections, caches
                theirs.append(a)
                ours.append(b)
    return ours, theirs


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        api_port = free_port()
        api_url = f"http://127.0.0.1:{api_port}"
        (folder / "api.py").write_text(API)
        api = subprocess.Popen([sys.executable, str(folder / "api.py"), str(api_port)])
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    httpx.get(f"{api_url}/health", timeout=1)
                    break
                except httpx.HTTPError:
                    time.sleep(0.05)
            db = folder / "bench.db"
            site = json.loads(_bpract("sites", "add", "--db", str(db), "--name", "bench",
                                      "--origin", ORIGIN, "--json"))  # fmt: skip
            env = {
                **UNTHROTTLED,
                "BPRACT_OUTBOUND_ALLOW": api_url,
                "BENCH_API_KEY": API_KEY,
                **OFFLINE_CHAT,
            }
            (folder / "actions.yaml").write_text(actions_yaml(api_url))
            _bpract("actions", "load", str(folder / "actions.yaml"), "--site",
                    site["public_key"], "--db", str(db), env={**os.environ, **env})  # fmt: skip
            with bpract_serve(db, folder / "server.log", env) as server:
                ws_url = server.url.replace("http", "ws") + "/v1/visitor"
                ours, theirs = asyncio.run(
                    measure(ws_url, site["public_key"], site["identity_secret"], api_url, n)
                )
        finally:
            api.terminate()
            api.wait(5)
    extra = [b - a for a, b in zip(theirs, ours, strict=True)]
    print(json.dumps(machine()))
    over = median(ours) - median(theirs)
    print_table(
        f"confirm → API → result, {n} confirms (ms)",
        [
            Row("direct httpx p50 / p99", f"{median(theirs):.2f} / {percentile(theirs, 99):.2f}"),
            Row("through bpract p50 / p99", f"{median(ours):.2f} / {percentile(ours, 99):.2f}"),
            Row(
                "overhead p50 (difference of medians)",
                f"{over:.2f}",
                f"≤ {BUDGET_MS:g}",
                over <= BUDGET_MS,
            ),
            Row(
                "overhead per pair p50 / p99", f"{median(extra):.2f} / {percentile(extra, 99):.2f}"
            ),
        ],
    )


if __name__ == "__main__":
    main()
