"""Route handlers for ``/widget.js`` (short cache) and ``/w/{path}`` (immutable, versioned).

GET and HEAD, with ``Range`` (one range: 206, or 416 past the end), ``If-Range`` and
``If-None-Match`` (304). A range counts bytes of the representation sent, so of the
``.br`` or ``.gz`` sibling when one was chosen; each has its own ETag, and
``Vary: Accept-Encoding`` tells caches to keep them apart.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Final

import anyio
from litestar import Request, Response, route
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import File, Stream

from bpract.assets.files import Resolved, resolve
from bpract.assets.ranges import ByteRange, Unsatisfiable, parse_range
from bpract.settings import Settings

__all__ = ["route_handlers", "serve_file"]

LOADER_CACHE = "public, max-age=300"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
_CROSS_ORIGIN: Final = {
    # Host pages live on other origins: they load the loader, the worker and the runtime.
    "access-control-allow-origin": "*",
    "access-control-expose-headers": "content-length, content-range, etag",
    "cross-origin-resource-policy": "cross-origin",
    "vary": "Accept-Encoding",
}
_CHUNK: Final = 256 * 1024

AssetResponse = Response[bytes] | File | Stream


def _not_found() -> Response[bytes]:
    return Response(b"not found", status_code=404, media_type="text/plain", headers=_CROSS_ORIGIN)


async def _read(path: Path, part: ByteRange) -> AsyncIterator[bytes]:
    async with await anyio.open_file(path, "rb") as f:
        await f.seek(part.start)
        left = part.length
        while left > 0:
            chunk = await f.read(min(_CHUNK, left))
            if not chunk:  # the file shrank under us: end the body short rather than hang
                return
            left -= len(chunk)
            yield chunk


def _wanted_range(request: Request[Any, Any, Any], found: Resolved) -> ByteRange | None:
    if_range = request.headers.get("if-range")
    if if_range is not None and if_range.strip() != found.etag:
        return None  # the client's copy is another version: send the whole file
    return parse_range(request.headers.get("range"), found.size)


def _partial(
    request: Request[Any, Any, Any], found: Resolved, headers: dict[str, str]
) -> AssetResponse | None:
    """206 for one satisfiable range, 416 for one past the end, None for the whole file."""
    try:
        part = _wanted_range(request, found)
    except Unsatisfiable:
        headers = {**headers, "content-range": f"bytes */{found.size}"}
        return Response(b"", status_code=416, media_type=found.media_type, headers=headers)
    if part is None:
        return None
    headers = {**headers, "content-range": part.content_range()}
    headers["content-length"] = str(part.length)
    if request.method == "HEAD":
        return Response(b"", status_code=206, media_type=found.media_type, headers=headers)
    return Stream(
        _read(found.path, part), status_code=206, media_type=found.media_type, headers=headers
    )


def serve_file(
    request: Request[Any, Any, Any],
    root: Path,
    relative: str,
    cache: str,
) -> AssetResponse:
    """``relative`` under ``root`` with encoding, caching, CORS, ranges and ETag/304 handled."""
    found = resolve(root, relative, request.headers.get("accept-encoding", ""))
    if found is None:
        return _not_found()
    headers = {**_CROSS_ORIGIN, "cache-control": cache, "etag": found.etag}
    headers["accept-ranges"] = "bytes"
    if found.encoding:
        headers["content-encoding"] = found.encoding
    if found.etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(b"", status_code=304, headers=headers)
    partial = _partial(request, found, headers)
    if partial is not None:
        return partial
    if request.method == "HEAD":
        headers["content-length"] = str(found.size)
        return Response(b"", media_type=found.media_type, headers=headers)
    return File(
        path=found.path,
        filename=relative.rsplit("/", 1)[-1],
        media_type=found.media_type,
        content_disposition_type="inline",
        headers=headers,
    )


@route("/widget.js", http_method=["GET", "HEAD"], include_in_schema=False)
async def widget_js(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings]
) -> AssetResponse:
    """The loader: one small script tag's worth, re-checked every five minutes."""
    root = settings.server.widget_dist
    if not root.is_dir():
        return Response(
            b"// BPract widget is not built: run ./dev build (or uv run python widget/build.py)\n",
            status_code=503,
            media_type="text/javascript",
            headers={"cache-control": "no-store", **_CROSS_ORIGIN},
        )
    return serve_file(request, root, "widget.js", LOADER_CACHE)


@route("/w/{path:path}", http_method=["GET", "HEAD"], include_in_schema=False)
async def widget_runtime(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings], path: FromPath[str]
) -> AssetResponse:
    """Worker, Pyodide runtime and our wheel, under a build id: cached forever."""
    root = settings.server.widget_dist / "w"
    return serve_file(request, root, path.lstrip("/"), IMMUTABLE_CACHE)


route_handlers = [widget_js, widget_runtime]
