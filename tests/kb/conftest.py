"""Knowledge-base fixtures: a migrated database with two sites, the MiniLM embedder, local HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bpract.features import MIGRATIONS
from bpract.kb import KnowledgeBase, MiniLMEmbedder
from bpract.net import NetSettings
from bpract.store import Database, migrate

Route = tuple[int, str, bytes]


@pytest.fixture(scope="session")
def minilm() -> MiniLMEmbedder:
    """One loaded model for the whole run (loading reads ~90 MB of weights)."""
    return MiniLMEmbedder()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "kb.db")
    database.run_sync(
        lambda c: migrate(
            c, tuple(m for m in MIGRATIONS if m.feature in ("sites", "visitors", "kb"))
        )
    )
    for site_id in (1, 2):
        database.run_sync(
            lambda c, i=site_id: c.execute(
                "INSERT INTO sites (id, public_key, name, allowed_origins, identity_secret,"
                " created_at) VALUES (?, ?, ?, '[]', 'sk_test', '2026-01-01T00:00:00Z')",
                (i, f"pk_site{i}", f"site {i}"),
            )
        )
    yield database
    database.close()


@pytest.fixture
def kb(db: Database, minilm: MiniLMEmbedder) -> Iterator[KnowledgeBase]:
    knowledge_base = KnowledgeBase(db, minilm)
    yield knowledge_base
    knowledge_base.close()


class HttpSite:
    """A threaded HTTP server on 127.0.0.1; ``routes`` maps a path to (status, type, body)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.redirects: dict[str, str] = {}
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                if self.path in site.redirects:
                    self.send_response(302)
                    self.send_header("Location", site.redirects[self.path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status, ctype, body = site.routes.get(self.path, (404, "text/plain", b"missing"))
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                payload = json.loads(self.rfile.read(length) or b"{}")
                site.requests.append(self.path)
                status, ctype, body = site.post(self.path, payload)
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def net(self) -> NetSettings:
        """Outbound settings that allow this server's origin (it is on loopback)."""
        return NetSettings(allow=self.url)

    def post(self, path: str, payload: dict[str, object]) -> Route:
        return (404, "text/plain", b"missing")

    def html(self, path: str, text: str, status: int = 200) -> None:
        self.routes[path] = (status, "text/html; charset=utf-8", text.encode())


@pytest.fixture
def http_site() -> Iterator[HttpSite]:
    site = HttpSite()
    site.thread.start()
    yield site
    site.server.shutdown()
    site.server.server_close()
