"""A small but ordinary host page (text, stylesheet, script, images) on its own 127.0.0.1 port."""

from __future__ import annotations

import random
import struct
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["HostPage"]

_PARAGRAPH = (
    "Our plans grow with your team. Every plan includes unlimited projects, "
    "priority e-mail support and a thirty-day money-back guarantee. "
)


def _png(width: int, height: int, seed: int) -> bytes:
    """A valid RGB PNG of noise (barely compressible, like a photo)."""
    rnd = random.Random(seed)
    rows = b"".join(b"\0" + rnd.randbytes(width * 3) for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows, 6))
        + chunk(b"IEND", b"")
    )


def _assets() -> dict[str, tuple[str, bytes]]:
    css = "".join(
        f".c{n} {{ margin: {n % 7}px; padding: {n % 5}px; color: #{n % 999:03d}; }}\n"
        for n in range(600)
    )
    js = "".join(
        f"window.h{n} = function (x) {{ return x * {n} + {n % 13}; }};\n" for n in range(1500)
    )
    js += "document.documentElement.dataset.ready = String(window.h7(6));\n"
    files = {
        "/style.css": ("text/css", css.encode()),
        "/app.js": ("text/javascript", js.encode()),
    }
    for n in range(4):
        files[f"/img/{n}.png"] = ("image/png", _png(160, 120, n))
    return files


def _page(tag: str) -> bytes:
    body = "".join(
        f"<section class='c{n}'><h2>Section {n}</h2><p>{_PARAGRAPH * 4}</p></section>"
        for n in range(30)
    )
    images = "".join(f"<img src='/img/{n}.png' width=160 height=120 alt=''>" for n in range(4))
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Pricing</title>"
        "<link rel=stylesheet href='/style.css'><script src='/app.js' defer></script>"
        f"{tag}</head><body><header><nav><a href='/'>Home</a></nav></header>"
        f"<main><h1>Pricing</h1>{images}{body}</main></body></html>"
    ).encode()


class HostPage:
    """Serves ``/`` with the widget's script tag and ``/plain`` without it, plus assets."""

    def __init__(self, port: int, tag: str) -> None:
        files = _assets()
        files["/"] = ("text/html; charset=utf-8", _page(tag))
        files["/plain"] = ("text/html; charset=utf-8", _page(""))
        self.files = files
        self.origin = f"http://127.0.0.1:{port}"
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        files = self.files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                found = files.get(self.path.split("?", 1)[0])
                if found is None:
                    self.send_error(404)
                    return
                kind, data = found
                self.send_response(200)
                self.send_header("content-type", kind)
                self.send_header("content-length", str(len(data)))
                self.send_header("cache-control", "no-cache")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: object) -> None:
                return

        return Handler

    def __enter__(self) -> HostPage:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def size(self, path: str) -> int:
        """Bytes of the page at ``path`` and every asset it loads."""
        return sum(
            len(data) for p, (_, data) in self.files.items() if p not in ("/", "/plain")
        ) + len(self.files[path][1])
