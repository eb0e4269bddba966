"""Tickets fixtures: a webhook receiver on 127.0.0.1 that checks signatures, a server, a visitor.

``Receiver.answers`` is the list of statuses given in turn (the last one repeats); every
request is recorded in ``seen`` with whether its signature verified under ``secret``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import apsw
import httpx
import pytest

from bpract.sites import Site
from bpract.tickets.signing import verify
from support.server import ServerProcess
from support.sites import make_site, make_token
from support.visitor import VisitorClient

ORIGIN = "http://127.0.0.1:8765"


@dataclass(frozen=True)
class Delivery:
    headers: dict[str, str]
    body: bytes
    signed: bool
    status: int

    @property
    def json(self) -> dict[str, Any]:
        found: dict[str, Any] = json.loads(self.body)
        return found


class Receiver:
    """A threaded HTTP server standing in for a site's webhook."""

    def __init__(self) -> None:
        self.secret = ""
        self.answers: list[int] = [200]
        self.seen: list[Delivery] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    answers = receiver.answers
                    status = answers.pop(0) if len(answers) > 1 else answers[0]
                    signed = verify(
                        receiver.secret, headers.get("x-bpract-signature", ""), body,
                        now_s=int(time.time()),
                    )  # fmt: skip
                    receiver.seen.append(Delivery(headers, body, signed, status))
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    @property
    def url(self) -> str:
        return f"{self.origin}/hooks/tickets"

    def taken(self) -> list[Delivery]:
        """The deliveries answered 2xx."""
        with self.lock:
            return [d for d in self.seen if 200 <= d.status < 300]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    try:
        yield found
    finally:
        found.close()


def rows(db_path: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    conn = apsw.Connection(str(db_path))
    try:
        return list(conn.execute(sql, args))
    finally:
        conn.close()


@dataclass
class World:
    db: Path
    site: Site
    token: str
    server: ServerProcess

    def api(self) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.token}"}
        return httpx.Client(base_url=self.server.url, headers=headers, timeout=30)

    def settings_url(self, site: Site | None = None) -> str:
        return f"/api/sites/{(site or self.site).public_key}/ticket-settings"


#: Fast delivery passes and short backoff, so a retry comes within a test's wait.
FAST = {
    "BPRACT_TICKETS_SWEEP": "0.1",
    "BPRACT_TICKETS_BACKOFF": "0.3",
    "BPRACT_TICKETS_MAX_BACKOFF": "1",
    "BPRACT_LLM_BASE_URL": "",
    "ANTHROPIC_API_KEY": "",
    "OPENAI_API_KEY": "",
    "OPENROUTER_API_KEY": "",
}


def make_world(tmp_path: Path, env: dict[str, str]) -> World:
    db = tmp_path / "bpract.db"
    site = make_site(db, name="Shop", origins=[ORIGIN])
    token = make_token(db)
    server = ServerProcess(db, env={**FAST, **env}).start(timeout=60)
    return World(db=db, site=site, token=token, server=server)


class TicketVisitor(VisitorClient):
    seq = 0

    async def ticket(self, email: str, text: str, seq: int | None = None) -> int:
        if seq is None:
            self.seq += 1
            seq = self.seq
        at = int(time.time() * 1000)
        await self.send({"t": "ticket", "seq": seq, "at": at, "email": email, "text": text})
        return seq


async def open_visitor(server: ServerProcess, site: Site, **hello: Any) -> TicketVisitor:
    client = TicketVisitor((await VisitorClient.open(server.ws_url, ORIGIN)).ws)
    await client.hello(site.public_key, **hello)
    return client
