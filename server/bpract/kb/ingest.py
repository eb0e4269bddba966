"""Incremental ingestion: unchanged documents skipped, changed ones re-chunked, removed deleted."""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import os
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import apsw

from bpract.clock import now_ms
from bpract.kb import index
from bpract.kb.chunk import chunk_document, embedding_text
from bpract.kb.embed.base import Vectors
from bpract.kb.errors import SourceError
from bpract.kb.parse.dispatch import parse_bytes
from bpract.kb.parse.html import HtmlPage
from bpract.kb.progress import Progress
from bpract.kb.search import KnowledgeBase
from bpract.kb.sources.base import Raw
from bpract.kb.sources.files import read_file, walk
from bpract.kb.sources.web import WebSource, is_sitemap
from bpract.kb.types import Document
from bpract.links import safe_link
from bpract.net import NetSettings, Outbound

__all__ = ["IngestReport", "add_documents", "embed_pending", "ingest"]

_EMBED_BATCH = 128


@dataclass(slots=True)
class IngestReport:
    """What one ``kb add`` did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    chunks: int = 0
    """Chunks written (new or changed documents)."""
    embedded: int = 0
    """Vectors computed (new chunks, or every chunk after a model change)."""
    failed: list[str] = field(default_factory=list)
    """Sources that could not be read; their stored copies are kept."""
    refused: list[str] = field(default_factory=list)
    """Why pages were not fetched: a private target, a redirect to another origin."""
    skipped: list[str] = field(default_factory=list)
    """Sitemap entries and links on another origin than the start URL's, not fetched."""


def _is_url(target: str) -> bool:
    return urlsplit(target).scheme in ("http", "https")


def _origin_of(target: str) -> str:
    """The key grouping a target's documents: the URL, or the absolute path."""
    return target if _is_url(target) else os.path.abspath(target)


async def _file_raws(root: Path, progress: Progress | None) -> AsyncIterator[Raw]:
    paths = walk(root)
    if progress is not None:
        progress.total = len(paths)
    for path in paths:
        yield await asyncio.to_thread(read_file, path)


async def _web_raws(
    web: WebSource, target: str, crawl: bool, progress: Progress | None
) -> AsyncIterator[Raw]:
    if crawl:
        async for raw in web.crawl(target):
            yield raw
        return
    if not is_sitemap(target):
        single = await web.page(target)
        if single is None:
            refused = web.refused[-1] if web.refused else None
            raise SourceError(refused or f"{target}: could not be fetched as a document")
        yield single
        return
    entries = [e async for e in web.sitemap(target)][: web.max_pages]
    if progress is not None:
        progress.total = len(entries)
    for url, lastmod in entries:
        if await web.allowed(url):
            page = await web.page(url, lastmod)
            if page is not None:
                yield page


def _parse(raw: Raw) -> Document | None:
    parsed = parse_bytes(
        raw.data,
        raw.kind,
        source=raw.source,
        url=raw.url,
        fallback_title=raw.fallback_title,
        updated_at=raw.updated_at,
    )
    doc = (None if parsed.noindex else parsed.document) if isinstance(parsed, HtmlPage) else parsed
    if doc is not None and doc.url is not None and safe_link(doc.url) is None:
        # e.g. front matter "url: javascript:…": the document is cited without a link
        doc = dataclasses.replace(doc, url=None)
    return doc


async def _store(
    kb: KnowledgeBase,
    site_id: int,
    *,
    origin: str,
    raw: Raw,
    stored: dict[str, index.StoredDoc],
    report: IngestReport,
) -> None:
    doc = await asyncio.to_thread(_parse, raw)
    await _store_document(
        kb, site_id, origin=origin, source=raw.source, doc=doc, stored=stored, report=report
    )


async def _store_document(
    kb: KnowledgeBase,
    site_id: int,
    *,
    origin: str,
    source: str,
    doc: Document | None,
    stored: dict[str, index.StoredDoc],
    report: IngestReport,
) -> None:
    known = stored.get(source)
    if doc is None or not doc.sections:
        if known is not None:  # emptied, or now marked noindex
            report.deleted += await kb.db.run(
                lambda c: index.delete_documents(c, site_id, [known.id])
            )
        return
    if known is not None and known.content_hash == doc.content_hash() and known.origin == origin:
        report.unchanged += 1
        return
    chunks = chunk_document(doc)
    now = now_ms()
    await kb.db.run(
        lambda c: index.write_document(
            c, site_id, origin=origin, doc=doc, chunks=chunks, now_ms=now
        )
    )
    report.chunks += len(chunks)
    if known is None:
        report.added += 1
    elif known.content_hash != doc.content_hash():
        report.updated += 1
    else:
        report.unchanged += 1


def _store_vectors(
    conn: apsw.Connection, *, rows: list[index.ChunkRow], vectors: Vectors, model: str
) -> None:
    index.store_vectors(conn, rows, vectors, model)


async def embed_pending(kb: KnowledgeBase, progress: Progress | None = None) -> int:
    """Give every chunk a vector from ``kb.embedder`` (all of them after a model change)."""
    name, dim = kb.embedder.name, kb.embedder.dim
    await kb.db.run(lambda c: index.ensure_model(c, name, dim))
    done = 0
    while True:
        rows = await kb.db.run(lambda c: index.pending_chunks(c, name, _EMBED_BATCH))
        if not rows:
            return done
        texts = [embedding_text(r.title, r.section, r.text) for r in rows]
        vectors = await asyncio.to_thread(kb.embedder.embed, texts)
        await kb.db.run(functools.partial(_store_vectors, rows=rows, vectors=vectors, model=name))
        done += len(rows)
        if progress is not None:
            progress.advance(len(rows))


async def add_documents(
    kb: KnowledgeBase, site_id: int, origin: str, docs: Iterable[Document]
) -> IngestReport:
    """Ingest already-parsed documents under ``origin``, incrementally like :func:`ingest`.

    Documents stored earlier under the same ``origin`` and absent from ``docs`` are deleted.
    """
    report = IngestReport()
    stored = await kb.db.run(lambda c: index.stored_documents(c, site_id))
    seen = set()
    for doc in docs:
        seen.add(doc.source)
        await _store_document(
            kb, site_id, origin=origin, source=doc.source, doc=doc, stored=stored, report=report
        )
    gone = [d.id for s, d in stored.items() if d.origin == origin and s not in seen]
    report.deleted += await kb.db.run(lambda c: index.delete_documents(c, site_id, gone))
    report.embedded = await embed_pending(kb)
    return report


async def ingest(
    kb: KnowledgeBase,
    site_id: int,
    target: str,
    *,
    crawl: bool = False,
    max_pages: int = 200,
    progress: Progress | None = None,
    net: NetSettings | None = None,
    allow_private: bool = False,
    outbound: Outbound | None = None,
) -> IngestReport:
    """Bring the site's copy of ``target`` (path, URL, sitemap, or crawl root) up to date.

    URLs are fetched through ``outbound`` (default: a guarded client made from ``net``;
    ``allow_private`` lets it reach private and loopback addresses for this run).
    """
    report = IngestReport()
    origin = _origin_of(target)
    stored = await kb.db.run(lambda c: index.stored_documents(c, site_id))
    seen: set[str] = set()
    own_client = outbound is None
    http = outbound or Outbound(net, allow_private=allow_private)
    web = WebSource(http, max_pages=max_pages)
    try:
        raws = (
            _web_raws(web, target, crawl, progress)
            if _is_url(target)
            else _file_raws(Path(origin), progress)
        )
        async for raw in raws:
            seen.add(raw.source)
            try:
                await _store(kb, site_id, origin=origin, raw=raw, stored=stored, report=report)
            except SourceError as exc:
                report.failed.append(exc.detail)
            if progress is not None:
                progress.advance(note=raw.source)
    finally:
        if own_client:
            await http.aclose()
    report.failed.extend(web.failed)
    report.refused.extend(web.refused)
    report.skipped.extend(web.skipped)
    keep = seen | set(web.failed) | set(web.refused_urls)  # a refusal deletes nothing either
    gone = [d.id for s, d in stored.items() if d.origin == origin and s not in keep]
    report.deleted += await kb.db.run(lambda c: index.delete_documents(c, site_id, gone))
    report.embedded = await embed_pending(kb)
    return report
