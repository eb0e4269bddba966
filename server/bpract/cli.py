"""The ``bpract`` command line: serve, migrate, sites, tokens, and features' own commands."""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bpract import features
from bpract.command import database_path, open_db
from bpract.features import MIGRATIONS
from bpract.settings import ServerSettings, describe, get_settings
from bpract.sites import Site, create_site, list_sites
from bpract.sites.auth import create_token
from bpract.store import Database, migrate, transaction

__all__ = ["main"]

Handler = Callable[[argparse.Namespace], int]


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    overrides = {k: v for k, v in (("db", args.db), ("host", args.host), ("port", args.port)) if v}
    settings = get_settings().replace(ServerSettings, **overrides)
    server = settings.server
    try:
        import websockets  # noqa: F401  - the sans-I/O server needs it

        ws = "websockets-sansio"
    except ImportError:
        ws = "wsproto"
    from bpract.app import create_app
    from bpract.visitors.settings import VisitorSettings

    app = create_app(settings)
    logging.getLogger().setLevel(args.log_level.upper())  # our loggers follow --log-level
    uvicorn.run(
        app,
        host=server.host,
        port=server.port,
        ws=ws,
        ws_max_size=settings.of(VisitorSettings).max_frame_bytes,
        workers=1,
        log_level=args.log_level,
        access_log=False,
    )
    return 0


def _migrate(args: argparse.Namespace) -> int:
    db = Database(database_path(args))
    try:
        applied = db.run_sync(lambda conn: migrate(conn, MIGRATIONS))
    finally:
        db.close()
    for m in applied:
        done = "recorded" if m.covered_by else "applied"  # covered: the tables exist already
        print(f"{done} {m.feature} {m.version:04d}_{m.name}")
    if not applied:
        print("up to date")
    return 0


def _site_dict(site: Site) -> dict[str, Any]:
    return dataclasses.asdict(site)


def _sites_add(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        site = db.run_sync(
            lambda c: _in_tx(c, lambda: create_site(c, name=args.name, origins=args.origin))
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    if args.json:
        print(json.dumps(_site_dict(site)))
    else:
        print(f"id {site.id}\npublic_key {site.public_key}\nidentity_secret {site.identity_secret}")
    return 0


def _sites_list(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        sites = db.run_sync(list_sites)
    finally:
        db.close()
    if args.json:
        print(json.dumps([_site_dict(s) for s in sites]))
    else:
        for s in sites:
            print(f"{s.id}\t{s.public_key}\t{s.name}\t{' '.join(s.allowed_origins)}")
    return 0


def _tokens_create(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        token = db.run_sync(lambda c: _in_tx(c, lambda: create_token(c, args.name)))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    print(token)
    return 0


def _in_tx(conn: Any, fn: Callable[[], Any]) -> Any:
    with transaction(conn):
        return fn()


def _settings(args: argparse.Namespace) -> int:
    """Every setting: its variable, default, current value when set, and what it means."""
    rows = [d for section in features.sections() for d in describe(section)]
    if args.json:
        print(json.dumps([dataclasses.asdict(d) for d in rows]))
        return 0
    for d in rows:
        current = os.environ.get(d.variable, "")
        value = f" = {current}" if current else ""
        print(f"{d.variable}{value}  (default {d.default!r}; {d.section}.{d.field})\n    {d.doc}")
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="bpract", description="BPract Agents server")
    parser.add_argument("--db", type=Path, help="SQLite file (default: $BPRACT_DB or ./bpract.db)")
    sub = parser.add_subparsers(dest="command", required=True)
    # --db is accepted after the subcommand too: `bpract sites list --db x.db`.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", type=Path, default=argparse.SUPPRESS)

    serve = sub.add_parser("serve", parents=[common], help="run the HTTP and WebSocket server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--log-level", default="info")
    serve.set_defaults(handler=_serve)

    db = sub.add_parser("db", help="database maintenance").add_subparsers(
        dest="db_command", required=True
    )
    db.add_parser("migrate", parents=[common], help="apply pending migrations").set_defaults(
        handler=_migrate
    )

    sites = sub.add_parser("sites", help="sites that embed the widget").add_subparsers(
        dest="sites_command", required=True
    )
    add = sites.add_parser(
        "add", parents=[common], help="create a site; prints its public key and identity secret"
    )
    add.add_argument("--name", required=True)
    add.add_argument("--origin", action="append", required=True, help="allowed origin (repeat)")
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=_sites_add)
    ls = sites.add_parser("list", parents=[common], help="list sites")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=_sites_list)

    tokens = sub.add_parser("tokens", help="admin API tokens").add_subparsers(
        dest="tokens_command", required=True
    )
    create = tokens.add_parser(
        "create", parents=[common], help="create a token; printed once, only its hash is kept"
    )
    create.add_argument("--name", required=True)
    create.set_defaults(handler=_tokens_create)

    listing = sub.add_parser("settings", help="every BPRACT_* setting, its default and meaning")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(handler=_settings)

    _register_features(sub)
    return parser


def _register_features(sub: Any) -> None:
    from bpract import demo

    for feature in features.FEATURES:
        if feature.cli:
            features.load(feature.cli).register(sub)
    demo.register(sub)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)
