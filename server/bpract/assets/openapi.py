"""The OpenAPI viewer at ``/schema``: Swagger UI served by us, nothing from a CDN.

``widget/build.py`` copies ``swagger-ui-dist`` (pinned in ``widget/package.json``) and
our ``viewer.js`` into ``widget/dist/schema/``; they are served from ``/schema/ui/``.
The page has no inline script, so its CSP allows scripts from ``'self'`` only.
"""

from __future__ import annotations

import html
from typing import Any, Final

from litestar import Request, Router, route
from litestar.di import NamedDependency
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import FromPath

from bpract.assets.routes import AssetResponse, serve_file
from bpract.headers import PagePolicy, page_policy
from bpract.settings import Settings

__all__ = ["SCHEMA_PAGE", "SwaggerViewer", "openapi_config"]

#: Swagger UI sets a few styles inline; everything else comes from ``'self'``.
SCHEMA_PAGE: Final = PagePolicy(style_src=("'self'", "'unsafe-inline'"))
_VIEWER_CACHE: Final = "public, max-age=3600"  # not versioned: revalidated by ETag
_NOT_BUILT: Final = (
    "<p>The OpenAPI viewer is not built: run <code>./dev build</code>. "
    "The schema itself is at <a href='{json}'>{json}</a>.</p>"
)


@route("/ui/{name:str}", http_method=["GET", "HEAD"], include_in_schema=False)
async def viewer_file(
    request: Request[Any, Any, Any], settings: NamedDependency[Settings], name: FromPath[str]
) -> AssetResponse:
    """Swagger UI's script and stylesheet, and the script that starts it."""
    response = serve_file(request, settings.server.widget_dist / "schema", name, _VIEWER_CACHE)
    for header in ("access-control-allow-origin", "cross-origin-resource-policy"):
        response.headers.pop(header, None)  # the viewer is ours alone, not for other sites
    return response


class SwaggerViewer(OpenAPIRenderPlugin):
    """Swagger UI from ``/schema/ui/``, reading ``/schema/openapi.json``."""

    def __init__(self) -> None:
        super().__init__(path="/")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        spec = self.get_openapi_json_route(request)
        base = spec.rsplit("/", 1)[0]
        title = html.escape(str(openapi_schema.get("info", {}).get("title", "API")))
        settings = request.app.state.get("settings")
        built = (
            isinstance(settings, Settings)
            and (settings.server.widget_dist / "schema" / "viewer.js").is_file()
        )
        body = (
            f'<div id="swagger-ui"></div><script src="{base}/ui/swagger-ui-bundle.js"></script>'
            f'<script src="{base}/ui/viewer.js" data-spec="{html.escape(spec)}"></script>'
            if built
            else _NOT_BUILT.format(json=html.escape(spec))
        )
        return (
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>{title}</title>"
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="stylesheet" href="{base}/ui/swagger-ui.css"></head>'
            f"<body>{body}</body></html>"
        ).encode()

    def receive_router(self, router: Router) -> None:
        router.register(viewer_file)


def openapi_config(title: str, version: str) -> OpenAPIConfig:
    """``/schema`` (the viewer), ``/schema/openapi.json`` and ``/schema/ui/…``, under one CSP."""
    router = Router(
        "/schema", route_handlers=[], include_in_schema=False, opt=page_policy(SCHEMA_PAGE)
    )
    return OpenAPIConfig(
        title=title, version=version, render_plugins=[SwaggerViewer()], openapi_router=router
    )
