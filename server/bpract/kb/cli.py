"""``bpract kb``: add (files, folders, URLs, sitemaps, crawls), search, audit, reindex."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

from bpract.command import open_db
from bpract.command import site_id as site_id_named
from bpract.errors import BpractError
from bpract.kb.audit import stale_documents, unanswered_groups
from bpract.kb.config import embedder_from_env
from bpract.kb.ingest import embed_pending, ingest
from bpract.kb.progress import Progress
from bpract.kb.search import KnowledgeBase
from bpract.net import NetSettings
from bpract.settings import read_section

__all__ = ["register"]


def _open(args: argparse.Namespace) -> tuple[KnowledgeBase, int | None]:
    db = open_db(args)
    site = getattr(args, "site", None)
    try:
        site_id = site_id_named(db, site) if site else None
        return KnowledgeBase(db, embedder_from_env()), site_id
    except BpractError:
        db.close()
        raise


def _run(args: argparse.Namespace, body: Any) -> int:
    """Open the knowledge base, run ``body(kb, site_id)``, turn our errors into exit code 1."""
    try:
        kb, site_id = _open(args)
    except BpractError as exc:  # an unknown site, or an embedder that cannot load
        print(f"bpract kb: {exc.detail}", file=sys.stderr)
        return 1
    try:
        code: int = asyncio.run(body(kb, site_id))
        return code
    except BpractError as exc:  # ingestion, search, or an outbound call refused
        print(f"bpract kb: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        kb.close()
        kb.db.close()


_PRIVATE_WARNING = (
    "bpract kb: warning: --allow-private lets this run fetch private, loopback and link-local"
    " addresses (an intranet help centre); whatever it reaches is indexed and can be quoted"
    " to visitors"
)


def _add(args: argparse.Namespace) -> int:
    if args.allow_private:
        print(_PRIVATE_WARNING, file=sys.stderr)

    async def body(kb: KnowledgeBase, site_id: int) -> int:
        progress = Progress("ingesting")
        report = await ingest(
            kb,
            site_id,
            args.target,
            crawl=args.crawl,
            max_pages=args.max_pages,
            progress=progress,
            net=read_section(NetSettings, os.environ),
            allow_private=args.allow_private,
        )
        progress.finish(
            f"added {report.added}, updated {report.updated}, "
            f"unchanged {report.unchanged}, deleted {report.deleted}, "
            f"{report.chunks} chunks, {report.embedded} embedded"
        )
        for failure in report.failed:
            print(f"failed: {failure}", file=sys.stderr)
        for refusal in report.refused:
            print(f"refused: {refusal}", file=sys.stderr)
        for url in report.skipped:
            print(f"skipped (another origin): {url}", file=sys.stderr)
        if args.json:
            print(json.dumps(dataclasses.asdict(report)))
        return 0

    return _run(args, body)


def _search(args: argparse.Namespace) -> int:
    async def body(kb: KnowledgeBase, site_id: int) -> int:
        passages = await kb.search(site_id, args.query, k=args.k, mode=args.mode)
        if args.json:
            print(json.dumps([dataclasses.asdict(p) for p in passages]))
            return 0
        for i, p in enumerate(passages, start=1):
            conf = "-" if p.confidence is None else f"{p.confidence:.2f}"
            print(f"{i}. {p.title} — {p.section}  [confidence {conf}]  {p.url or p.source}")
            print("   " + " ".join(p.text.split())[:240])
        return 0

    return _run(args, body)


def _audit(args: argparse.Namespace) -> int:
    async def body(kb: KnowledgeBase, site_id: int) -> int:
        stale = await stale_documents(kb.db, site_id, args.days)
        since = int(
            (dt.datetime.now(dt.UTC) - dt.timedelta(days=args.since_days)).timestamp() * 1000
        )
        groups = await unanswered_groups(kb.db, kb.embedder, site_id, since_ms=since)
        if args.json:
            print(
                json.dumps(
                    {
                        "stale": [dataclasses.asdict(s) for s in stale],
                        "unanswered": [dataclasses.asdict(g) for g in groups],
                    }
                )
            )
            return 0
        print(f"Documents not updated in {args.days} days: {len(stale)}")
        for s in stale:
            print(f"  {s.updated_at or 'undated':10}  {s.title}  ({s.source})")
        print(f"Unanswered questions (last {args.since_days} days), grouped: {len(groups)}")
        for g in groups:
            print(f"  {g.count:4}x  {g.question}")
            for ex in g.examples[1:3]:
                print(f"         also: {ex}")
        return 0

    return _run(args, body)


def _reindex(args: argparse.Namespace) -> int:
    async def body(kb: KnowledgeBase, _: int | None) -> int:
        progress = Progress(f"embedding with {kb.embedder.name}")
        done = await embed_pending(kb, progress)
        progress.finish(f"{done} chunks embedded")
        return 0

    return _run(args, body)


def register(subparsers: Any) -> None:
    """Add ``bpract kb …`` to the ``bpract`` command line."""
    kb = subparsers.add_parser("kb", help="knowledge base: ingest, search, audit")
    sub = kb.add_subparsers(dest="kb_command", required=True)

    def command(
        name: str, help_: str, handler: Any, *, site: bool = True
    ) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = sub.add_parser(name, help=help_)
        p.add_argument(
            "--db",
            type=Path,
            default=argparse.SUPPRESS,
            help="SQLite file (default: $BPRACT_DB or ./bpract.db)",
        )
        if site:
            p.add_argument("--site", required=True, help="site public key (pk_…)")
        p.set_defaults(handler=handler)
        return p

    add = command("add", "ingest a file, folder, URL, sitemap.xml, or (--crawl) a site", _add)
    add.add_argument("target", help="path or URL")
    add.add_argument("--crawl", action="store_true", help="follow same-site links from the URL")
    add.add_argument("--max-pages", type=int, default=200, help="page limit for URLs (default 200)")
    add.add_argument("--json", action="store_true", help="print the report as JSON")
    add.add_argument(
        "--allow-private",
        action="store_true",
        help="for this run, fetch private and loopback addresses too (an intranet help centre)",
    )

    search = command("search", "retrieve passages for a question", _search)
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5)
    search.add_argument("--mode", choices=("hybrid", "bm25", "vector"), default="hybrid")
    search.add_argument("--json", action="store_true")

    audit = command("audit", "stale documents and unanswered questions", _audit)
    audit.add_argument("--days", type=int, default=180, help="stale after N days (default 180)")
    audit.add_argument(
        "--since-days",
        type=int,
        default=30,
        help="unanswered questions of the last N days (default 30)",
    )
    audit.add_argument("--json", action="store_true")

    command("reindex", "embed every chunk with the configured model", _reindex, site=False)
