"""URLs, sitemaps and same-site crawls over httpx; robots.txt respected, everything bounded."""

from __future__ import annotations

import posixpath
import re
import urllib.robotparser
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html import unescape
from urllib.parse import urldefrag, urljoin, urlsplit

import httpx

from bpract.kb.errors import SourceError
from bpract.kb.parse.dispatch import kind_of
from bpract.kb.parse.html import parse_html
from bpract.kb.parse.sections import iso_date
from bpract.kb.sources.base import Raw

__all__ = ["USER_AGENT", "WebSource", "is_sitemap"]

USER_AGENT = "BPractBot/0.1 (knowledge base ingestion)"
_MAX_BYTES = 10 * 1024 * 1024
_ENTRY = re.compile(r"<(url|sitemap)\b[^>]*>(.*?)</\1>", re.DOTALL | re.IGNORECASE)
_LOC = re.compile(r"<loc>\s*(.*?)\s*</loc>", re.DOTALL | re.IGNORECASE)
_LASTMOD = re.compile(r"<lastmod>\s*(.*?)\s*</lastmod>", re.DOTALL | re.IGNORECASE)


def is_sitemap(url: str) -> bool:
    path = urlsplit(url).path.lower()
    return path.endswith(".xml") or "sitemap" in posixpath.basename(path)


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


def _title_from(url: str) -> str:
    name = posixpath.basename(urlsplit(url).path.rstrip("/")) or urlsplit(url).netloc
    return posixpath.splitext(name)[0].replace("-", " ").replace("_", " ").capitalize()


@dataclass(frozen=True, slots=True)
class _Fetched:
    status: int
    content_type: str | None
    last_modified: str | None
    body: bytes


class WebSource:
    """Fetches pages for ingestion; ``failed`` lists URLs that could not be read this run."""

    def __init__(self, client: httpx.AsyncClient, *, max_pages: int = 200) -> None:
        self.client = client
        self.max_pages = max_pages
        self.failed: list[str] = []
        self._robots: dict[tuple[str, str], urllib.robotparser.RobotFileParser] = {}

    async def _get(self, url: str) -> _Fetched:
        """GET ``url``, reading at most ``_MAX_BYTES`` of body; network errors raise SourceError."""
        try:
            async with self.client.stream("GET", url, headers={"User-Agent": USER_AGENT}) as resp:
                body = bytearray()
                async for part in resp.aiter_bytes():
                    body += part
                    if len(body) > _MAX_BYTES:
                        raise SourceError(f"{url}: larger than {_MAX_BYTES} bytes")
                return _Fetched(
                    resp.status_code,
                    resp.headers.get("content-type"),
                    resp.headers.get("last-modified"),
                    bytes(body),
                )
        except httpx.HTTPError as exc:
            raise SourceError(f"{url}: {exc}") from exc

    async def allowed(self, url: str) -> bool:
        """robots.txt of the URL's origin allows our user agent (a missing file allows all)."""
        key = _origin(url)
        if key not in self._robots:
            rp = urllib.robotparser.RobotFileParser()
            try:
                resp = await self.client.get(
                    f"{key[0]}://{key[1]}/robots.txt", headers={"User-Agent": USER_AGENT}
                )
                rp.parse(resp.text.splitlines() if resp.status_code == 200 else [])
            except httpx.HTTPError:
                rp.parse([])
            self._robots[key] = rp
        return self._robots[key].can_fetch(USER_AGENT, url)

    async def page(self, url: str, updated_at: str | None = None) -> Raw | None:
        """One URL as a document, or None (recorded in ``failed``) if it is not one."""
        try:
            resp = await self._get(url)
        except SourceError:
            self.failed.append(url)
            return None
        kind = kind_of(posixpath.splitext(urlsplit(url).path)[1], resp.content_type)
        if resp.status != 200 or kind is None:
            if resp.status >= 500 or resp.status == 429:
                self.failed.append(url)  # transient: keep what the index has
            return None
        modified = iso_date(resp.last_modified)
        return Raw(url, kind, resp.body, url, _title_from(url), updated_at or modified)

    async def sitemap(self, url: str, depth: int = 0) -> AsyncIterator[tuple[str, str | None]]:
        """``(page URL, lastmod)`` from a sitemap or sitemap index (nested two levels at most)."""
        resp = await self._get(url)
        if resp.status != 200:
            raise SourceError(f"{url}: HTTP {resp.status}")
        count = 0
        for tag, body in _ENTRY.findall(resp.body.decode("utf-8", "replace")):
            loc = _LOC.search(body)
            if not loc or count >= self.max_pages:
                continue
            target = unescape(loc[1])
            if tag.lower() == "sitemap" and depth < 2:
                async for item in self.sitemap(target, depth + 1):
                    yield item
            elif tag.lower() == "url":
                lastmod = _LASTMOD.search(body)
                count += 1
                yield target, iso_date(lastmod[1]) if lastmod else None

    async def crawl(self, start: str) -> AsyncIterator[Raw]:
        """Breadth-first over links of ``start``'s own origin, at most ``max_pages`` documents."""
        home = _origin(start)
        queue: deque[str] = deque([urldefrag(start).url])
        seen = {queue[0]}
        fetched = 0
        while queue and fetched < self.max_pages:
            url = queue.popleft()
            if not await self.allowed(url):
                continue
            raw = await self.page(url)
            fetched += 1
            if raw is None:
                continue
            yield raw
            if raw.kind != "html":
                continue
            page = parse_html(
                raw.data.decode("utf-8", "replace"),
                source=url,
                url=url,
                fallback_title="",
                updated_at=None,
            )
            for href in page.links:
                link = urldefrag(urljoin(url, href)).url
                if _origin(link) == home and link not in seen:
                    seen.add(link)
                    queue.append(link)
