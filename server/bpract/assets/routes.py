"""Route handlers for ``/widget.js`` (short cache) and ``/w/{path}`` (immutable, versioned)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import File

from bpract.assets.files import resolve
from bpract.settings import Settings

__all__ = ["route_handlers", "serve_file"]

LOADER_CACHE = "public, max-age=300"
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
_CROSS_ORIGIN = {
    # Host pages live on other origins: they load the loader, the worker and the runtime.
    "access-control-allow-origin": "*",
    "cross-origin-resource-policy": "cross-origin",
    "vary": "Accept-Encoding",
}


def serve_file(
    request: Request[Any, Any, Any],
    root: Path,
    relative: str,
    cache: str,
) -> Response[bytes] | File:
    """``relative`` under ``root`` with encoding, caching, CORS and ETag/304 handled."""
    found = resolve(root, relative, request.headers.get("accept-encoding", ""))
    if found is None:
        return Response(
            b"not found", status_code=404, media_type="text/plain", headers=_CROSS_ORIGIN
        )
    headers = {**_CROSS_ORIGIN, "cache-control": cache, "etag": found.etag}
    if found.encoding:
        headers["content-encoding"] = found.encoding
    if found.etag in {t.strip() for t in request.headers.get("if-none-match", "").split(",")}:
        return Response(b"", status_code=304, headers=headers)
    return File(
        path=found.path,
        filename=relative.rsplit("/", 1)[-1],
        media_type=found.media_type,
        content_disposition_type="inline",
        headers=headers,
    )


@get("/widget.js", include_in_schema=False)
async def widget_js(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings]
) -> Response[bytes] | File:
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


@get("/w/{path:path}", include_in_schema=False)
async def widget_runtime(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings], path: FromPath[str]
) -> Response[bytes] | File:
    """Worker, Pyodide runtime and our wheel, under a build id: cached forever."""
    root = settings.server.widget_dist / "w"
    return serve_file(request, root, path.lstrip("/"), IMMUTABLE_CACHE)


route_handlers = [widget_js, widget_runtime]
