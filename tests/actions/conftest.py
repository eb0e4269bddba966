"""Executor fixtures: a business API stand-in on 127.0.0.1 that records what it was sent.

``api_server()`` makes a :class:`Api`; a test sets ``routes[path]`` to a function
of the :class:`Seen` request answering ``(status, headers, body)``, or a list of
answers given in turn (the last one repeats).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


Answer = tuple[int, dict[str, str], bytes]
Route = Callable[[Seen], Answer] | list[Answer]


class Api:
    """A threaded HTTP/1.0 server; ``seen`` lists every request, ``release`` frees slow routes."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.seen: list[Seen] = []
        self.release = threading.Event()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                seen = Seen(
                    self.command,
                    self.path,
                    {k.lower(): v for k, v in self.headers.items()},
                    self.rfile.read(length),
                )
                api.seen.append(seen)
                status, headers, body = api.answer(seen)
                try:
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    for start in range(0, len(body), 1 << 16):
                        self.wfile.write(body[start : start + (1 << 16)])
                except OSError:
                    return  # the client stopped reading (a body over its cap)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

            def log_message(self, format: str, *args: object) -> None:
                return

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def answer(self, seen: Seen) -> Answer:
        route = self.routes.get(seen.path)
        if route is None:
            return 404, {"Content-Length": "7"}, b"missing"
        if isinstance(route, list):
            return route.pop(0) if len(route) > 1 else route[0]
        return route(seen)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def json(self, path: str, body: bytes, status: int = 200, **headers: str) -> None:
        self.routes[path] = [(status, json_headers(body, **headers), body)]

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def json_headers(body: bytes, **headers: str) -> dict[str, str]:
    return {"Content-Type": "application/json", "Content-Length": str(len(body)), **headers}


@pytest.fixture
def api_server() -> Iterator[Callable[[], Api]]:
    made: list[Api] = []

    def make() -> Api:
        made.append(Api())
        return made[-1]

    yield make
    for api in made:
        api.close()
