"""The static pages, served with the BPract tag's placeholders filled in from settings."""

from __future__ import annotations

import html
import mimetypes
from pathlib import Path, PurePosixPath

from litestar import MediaType, Response, Router, get
from markdown_it import MarkdownIt

from demo_site.settings import DemoSettings

__all__ = ["fill_tag", "pages_router", "render_help", "resolve"]

_ARTICLE_TEMPLATE = "help/_article.html"
_NOT_FOUND = "404.html"
_TYPES = {".md": "text/markdown; charset=utf-8", ".svg": "image/svg+xml"}
_markdown = MarkdownIt("commonmark").enable("table")


def fill_tag(text: str, settings: DemoSettings) -> str:
    """Replace ``{{BPRACT_URL}}`` and ``{{SITE_KEY}}`` (both sit in HTML attributes)."""
    return text.replace("{{BPRACT_URL}}", html.escape(settings.bpract_url)).replace(
        "{{SITE_KEY}}", html.escape(settings.site_key)
    )


def resolve(site_dir: Path, url_path: str) -> Path | None:
    """The file a URL path names: itself, ``+.html``, ``/index.html`` or a help article's ``.md``.

    Names starting with ``_`` or ``.`` are private (templates) and never served.
    """
    parts = PurePosixPath(url_path.strip("/")).parts
    if any(part.startswith(("_", ".")) for part in parts):
        return None
    base = site_dir.joinpath(*parts)
    stem = base.with_suffix("") if base.suffix == ".html" else base
    candidates = [base, base.with_name(base.name + ".html"), base / "index.html"]
    candidates.append(stem.with_name(stem.name + ".md"))
    root = site_dir.resolve()
    for candidate in candidates:
        resolved = candidate.resolve()
        if resolved.is_file() and resolved.is_relative_to(root):
            return resolved
    return None


def render_help(site_dir: Path, article: Path) -> str:
    """A help article's Markdown inside the article template; its first ``# `` line is the title."""
    source = article.read_text(encoding="utf-8")
    title = next(
        (line[2:].strip() for line in source.splitlines() if line.startswith("# ")), article.stem
    )
    template = (site_dir / _ARTICLE_TEMPLATE).read_text(encoding="utf-8")
    return template.replace("{{TITLE}}", html.escape(title)).replace(
        "{{ARTICLE}}", _markdown.render(source)
    )


def _page(settings: DemoSettings, path: Path, wants_markdown: bool) -> Response[bytes | str]:
    if path.suffix == ".md" and not wants_markdown:
        text = fill_tag(render_help(settings.site_dir, path), settings)
        return Response(text, media_type=MediaType.HTML, headers={"Cache-Control": "no-cache"})
    if path.suffix == ".html":
        text = fill_tag(path.read_text(encoding="utf-8"), settings)
        return Response(text, media_type=MediaType.HTML, headers={"Cache-Control": "no-cache"})
    media_type = _TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0]
    return Response(path.read_bytes(), media_type=media_type or "application/octet-stream")


def _serve(settings: DemoSettings, path: str) -> Response[bytes | str]:
    found = resolve(settings.site_dir, path)
    if found is None:
        text = fill_tag((settings.site_dir / _NOT_FOUND).read_text(encoding="utf-8"), settings)
        return Response(text, status_code=404, media_type=MediaType.HTML)
    return _page(settings, found, wants_markdown=path.endswith(".md"))


@get("/", sync_to_thread=True, include_in_schema=False)
def serve_home(settings: DemoSettings) -> Response[bytes | str]:
    return _serve(settings, "/")


@get("/{path:path}", sync_to_thread=True, include_in_schema=False)
def serve_page(settings: DemoSettings, path: str) -> Response[bytes | str]:
    return _serve(settings, path)


def pages_router() -> Router:
    return Router(path="/", route_handlers=[serve_home, serve_page])
