"""URLs, sitemaps and same-site crawls through the guarded client: robots.txt respected, only
the start URL's origin fetched (other sitemap entries skipped), everything bounded."""

from __future__ import annotations

import posixpath
import re
import urllib.robotparser
from collections import deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from html import unescape
from urllib.parse import urldefrag, urljoin, urlsplit

from bpract.kb.errors import SourceError
from bpract.kb.parse.dispatch import kind_of
from bpract.kb.parse.html import parse_html
from bpract.kb.parse.sections import iso_date
from bpract.kb.sources.base import Raw
from bpract.net import Outbound, OutboundError, RedirectRefusedError, TargetRefusedError, origin_of

__all__ = ["USER_AGENT", "WebSource", "is_sitemap"]

USER_AGENT = "BPractBot/0.1 (knowledge base ingestion)"
_ENTRY = re.compile(r"<(url|sitemap)\b[^>]*>(.*?)</\1>", re.DOTALL | re.IGNORECASE)
_LOC = re.compile(r"<loc>\s*(.*?)\s*</loc>", re.DOTALL | re.IGNORECASE)
_LASTMOD = re.compile(r"<lastmod>\s*(.*?)\s*</lastmod>", re.DOTALL | re.IGNORECASE)


def is_sitemap(url: str) -> bool:
    path = urlsplit(url).path.lower()
    return path.endswith(".xml") or "sitemap" in posixpath.basename(path)


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        return origin_of(url)
    except OutboundError:
        return None


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
    """Fetches pages for ingestion through ``outbound``, which refuses private targets and
    redirects off the origin.  Of this run: ``failed`` lists URLs that could not be read
    (their stored copies are kept), ``refused`` why a page was not fetched (the guard said
    no), ``skipped`` sitemap entries on another origin than the sitemap's."""

    def __init__(self, outbound: Outbound, *, max_pages: int = 200) -> None:
        self.outbound = outbound
        self.max_pages = max_pages
        self.failed: list[str] = []
        self.refused: list[str] = []
        self.refused_urls: list[str] = []
        self.skipped: list[str] = []
        self._robots: dict[tuple[str, str, int], urllib.robotparser.RobotFileParser] = {}

    async def _get(self, url: str) -> _Fetched:
        """GET ``url``, the body capped (``BPRACT_OUTBOUND_MAX_BYTES``); a refusal or a network
        error raises SourceError."""
        try:
            resp = await self.outbound.fetch("GET", url, headers={"User-Agent": USER_AGENT})
        except OutboundError as exc:
            raise SourceError(exc.detail) from exc
        return _Fetched(
            resp.status,
            resp.headers.get("content-type"),
            resp.headers.get("last-modified"),
            resp.body,
        )

    async def allowed(self, url: str) -> bool:
        """robots.txt of the URL's origin allows our user agent (a missing file allows all)."""
        key = _origin(url)
        if key is None:
            return False
        if key not in self._robots:
            rp = urllib.robotparser.RobotFileParser()
            scheme, host, port = key
            netloc = f"[{host}]" if ":" in host else host
            try:
                resp = await self._get(f"{scheme}://{netloc}:{port}/robots.txt")
                text = resp.body.decode("utf-8", "replace") if resp.status == 200 else ""
                rp.parse(text.splitlines())
            except SourceError:
                rp.parse([])
            self._robots[key] = rp
        return self._robots[key].can_fetch(USER_AGENT, url)

    async def page(self, url: str, updated_at: str | None = None) -> Raw | None:
        """One URL as a document, or None (recorded in ``failed`` or ``refused``) if it is
        not one."""
        try:
            resp = await self._get(url)
        except SourceError as exc:
            if isinstance(exc.__cause__, TargetRefusedError | RedirectRefusedError):
                self.refused.append(exc.detail)
                self.refused_urls.append(url)
            else:
                self.failed.append(url)
            return None
        kind = kind_of(posixpath.splitext(urlsplit(url).path)[1], resp.content_type)
        if resp.status != 200 or kind is None:
            if resp.status >= 500 or resp.status == 429:
                self.failed.append(url)  # transient: keep what the index has
            return None
        modified = iso_date(resp.last_modified)
        return Raw(url, kind, resp.body, url, _title_from(url), updated_at or modified)

    async def sitemap(
        self, url: str, depth: int = 0, home: tuple[str, str, int] | None = None
    ) -> AsyncIterator[tuple[str, str | None]]:
        """``(page URL, lastmod)`` from a sitemap or sitemap index (nested two levels at most),
        only those on the first sitemap's origin: the others are added to ``skipped``."""
        home = home or _origin(url)
        resp = await self._get(url)
        if resp.status != 200:
            raise SourceError(f"{url}: HTTP {resp.status}")
        count = 0
        for tag, body in _ENTRY.findall(resp.body.decode("utf-8", "replace")):
            loc = _LOC.search(body)
            if not loc or count >= self.max_pages:
                continue
            target = unescape(loc[1])
            if _origin(target) != home:
                self.skipped.append(target)
                continue
            if tag.lower() == "sitemap" and depth < 2:
                async for item in self.sitemap(target, depth + 1, home):
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
                if link in seen:
                    continue
                seen.add(link)
                where = _origin(link)
                if where == home:
                    queue.append(link)
                elif where is not None:  # an http(s) link elsewhere: reported, not followed
                    self.skipped.append(link)
