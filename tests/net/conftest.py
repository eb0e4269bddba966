"""Outbound-client fixtures: small HTTP servers on 127.0.0.1 whose routes a test sets."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

#: A route answers ``(status, headers, body)``; it may block (a slow server) on an event.
Route = Callable[[], tuple[int, dict[str, str], bytes]]


class Server:
    """A threaded server on 127.0.0.1; ``seen`` lists ``(method, path, host header)``."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[tuple[str, str, str]] = []
        self.release = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                self.rfile.read(length)
                server.seen.append((self.command, self.path, self.headers.get("Host", "")))
                route = server.routes.get(self.path)
                status, headers, body = route() if route else (404, {}, b"missing")
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client hung up: the size cap and the timeouts do so on purpose

            do_GET = do_POST = _answer

            def log_message(self, format: str, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def text(self, path: str, body: bytes, status: int = 200, **headers: str) -> None:
        sized = {"Content-Type": "text/plain", "Content-Length": str(len(body)), **headers}
        self.routes[path] = lambda: (status, sized, body)

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.routes[path] = lambda: (status, {"Location": location, "Content-Length": "0"}, b"")

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def make_server() -> Iterator[Callable[[], Server]]:
    made: list[Server] = []

    def make() -> Server:
        made.append(Server())
        return made[-1]

    yield make
    for server in made:
        server.close()


@pytest.fixture
def server(make_server: Callable[[], Server]) -> Server:
    return make_server()
