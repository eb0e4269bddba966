"""The ``bpract`` command line: serve, migrate, orgs, sites, tokens, and features' own commands."""

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
from bpract.sites import (
    Organisation,
    OrgNotFoundError,
    Site,
    create_org,
    create_site,
    find_org,
    list_orgs,
    list_sites,
    rotate_identity_secret,
    site_id_for_ref,
    the_only_org,
)
from bpract.sites.auth import Role, create_token, parse_expiry
from bpract.sites.tokens import list_tokens, revoke_token
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


def _site_dict(site: Site, *, secret: bool = False) -> dict[str, Any]:
    """A site for printing: its identity secret only when just made (``secret``)."""
    shown = dataclasses.asdict(site)
    if not secret:
        del shown["identity_secret"]
    return shown


def _org(conn: Any, ref: str | None) -> Organisation:
    """The organisation ``--org`` names, or the only one (``default``, made if there is none)."""
    if ref is None:
        return the_only_org(conn, create=True)
    found = find_org(conn, ref)
    if found is None:
        raise OrgNotFoundError(f"no organisation {ref!r} (see `bpract orgs list`)")
    return found


def _fail(exc: Exception) -> int:
    print(f"error: {exc}", file=sys.stderr)
    return 2


def _orgs_add(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        org = db.run_sync(lambda c: _in_tx(c, lambda: create_org(c, args.name)))
    except ValueError as exc:
        return _fail(exc)
    finally:
        db.close()
    print(json.dumps(dataclasses.asdict(org)) if args.json else f"id {org.id}\nname {org.name}")
    return 0


def _orgs_list(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        orgs = db.run_sync(list_orgs)
    finally:
        db.close()
    if args.json:
        print(json.dumps([dataclasses.asdict(o) for o in orgs]))
    else:
        for o in orgs:
            print(f"{o.id}\t{o.name}\t{o.created_at}")
    return 0


def _sites_add(args: argparse.Namespace) -> int:
    db = open_db(args)

    def add(c: Any) -> Site:
        org = _org(c, args.org)
        return create_site(c, name=args.name, origins=args.origin, org_id=org.id)

    try:
        site = db.run_sync(lambda c: _in_tx(c, lambda: add(c)))
    except (ValueError, OrgNotFoundError) as exc:
        return _fail(exc)
    finally:
        db.close()
    if args.json:
        print(json.dumps(_site_dict(site, secret=True)))
    else:
        print(f"id {site.id}\npublic_key {site.public_key}\nidentity_secret {site.identity_secret}")
    return 0


def _sites_list(args: argparse.Namespace) -> int:
    db = open_db(args)

    def listed(c: Any) -> list[Site]:
        return list_sites(c, org_id=None if args.org is None else _org(c, args.org).id)

    try:
        sites = db.run_sync(listed)
    except OrgNotFoundError as exc:
        return _fail(exc)
    finally:
        db.close()
    if args.json:
        print(json.dumps([_site_dict(s) for s in sites]))
    else:
        for s in sites:
            print(f"{s.id}\t{s.public_key}\t{s.name}\t{' '.join(s.allowed_origins)}")
    return 0


def _sites_rotate_secret(args: argparse.Namespace) -> int:
    db = open_db(args)

    def rotate(c: Any) -> tuple[int, str]:
        site_id = site_id_for_ref(c, args.site)
        if site_id is None:
            raise ValueError(f"no site {args.site!r} (see `bpract sites list`)")
        return site_id, rotate_identity_secret(c, site_id)

    try:
        site_id, secret = db.run_sync(lambda c: _in_tx(c, lambda: rotate(c)))
    except ValueError as exc:
        return _fail(exc)
    finally:
        db.close()
    if args.json:
        print(json.dumps({"id": site_id, "identity_secret": secret}))
    else:
        print(f"identity_secret {secret}")
    return 0


def _tokens_create(args: argparse.Namespace) -> int:
    name = args.name or args.name_option
    if not name:
        return _fail(ValueError("a token needs a name: bpract tokens create NAME"))
    db = open_db(args)

    def create(c: Any) -> str:
        org = _org(c, args.org)
        sites = None
        if args.site:
            sites = []
            for ref in args.site:
                site_id = site_id_for_ref(c, ref)
                if site_id is None:
                    raise ValueError(f"no site {ref!r} (see `bpract sites list`)")
                sites.append(site_id)
        expires = None if args.expires is None else parse_expiry(args.expires)
        return create_token(c, name, org_id=org.id, role=args.role, sites=sites, expires_at=expires)

    try:
        token = db.run_sync(lambda c: _in_tx(c, lambda: create(c)))
    except (ValueError, OrgNotFoundError) as exc:
        return _fail(exc)
    finally:
        db.close()
    print(token)
    return 0


def _tokens_list(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        tokens = db.run_sync(list_tokens)
    finally:
        db.close()
    if args.json:
        print(json.dumps([dataclasses.asdict(t) for t in tokens]))
        return 0
    print("id\tname\torg\trole\tsites\tcreated\tlast used\texpires\trevoked")
    for t in tokens:
        sites = ",".join(t.sites) if t.site_limited else "all"
        cells = [t.id, t.name, t.org, t.role, sites or "none", t.created_at]
        cells += [t.last_used_at or "-", t.expires_at or "never", t.revoked_at or "-"]
        print("\t".join(str(c) for c in cells))
    return 0


def _tokens_revoke(args: argparse.Namespace) -> int:
    from datetime import UTC, datetime

    db = open_db(args)
    at = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        found = db.run_sync(lambda c: _in_tx(c, lambda: revoke_token(c, args.id, at)))
    finally:
        db.close()
    if not found:
        return _fail(LookupError(f"no token with id {args.id} (see `bpract tokens list`)"))
    print(f"revoked token {args.id}")
    return 0


def _in_tx(conn: Any, fn: Callable[[], Any]) -> Any:
    # The write lock first: beside a running server, a read-then-write transaction would
    # fail at once on a stale snapshot instead of waiting for its turn.
    with transaction(conn, lock=True):
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


def _register_tenancy(sub: Any, common: argparse.ArgumentParser) -> None:
    """``bpract orgs``, ``bpract sites`` and ``bpract tokens``."""
    orgs = sub.add_parser("orgs", help="organisations: they own sites and tokens").add_subparsers(
        dest="orgs_command", required=True
    )
    org_add = orgs.add_parser("add", parents=[common], help="create an organisation")
    org_add.add_argument("name")
    org_add.add_argument("--json", action="store_true")
    org_add.set_defaults(handler=_orgs_add)
    org_ls = orgs.add_parser("list", parents=[common], help="list organisations")
    org_ls.add_argument("--json", action="store_true")
    org_ls.set_defaults(handler=_orgs_list)

    org_help = "organisation name or id (default: the only one)"
    sites = sub.add_parser("sites", help="sites that embed the widget").add_subparsers(
        dest="sites_command", required=True
    )
    add = sites.add_parser(
        "add",
        parents=[common],
        help="create a site; prints its public key and its identity secret (this once)",
    )
    add.add_argument("--name", required=True)
    add.add_argument("--origin", action="append", required=True, help="allowed origin (repeat)")
    add.add_argument("--org", help=org_help)
    add.add_argument("--json", action="store_true")
    add.set_defaults(handler=_sites_add)
    ls = sites.add_parser("list", parents=[common], help="list sites (never their secrets)")
    ls.add_argument("--org", help="only this organisation's sites")
    ls.add_argument("--json", action="store_true")
    ls.set_defaults(handler=_sites_list)
    rotate = sites.add_parser(
        "rotate-secret",
        parents=[common],
        help="give a site a new identity secret, printed once; the old one stops verifying",
    )
    rotate.add_argument("site", help="public key (pk_…) or id")
    rotate.add_argument("--json", action="store_true")
    rotate.set_defaults(handler=_sites_rotate_secret)

    tokens = sub.add_parser("tokens", help="admin API tokens").add_subparsers(
        dest="tokens_command", required=True
    )
    create = tokens.add_parser(
        "create", parents=[common], help="create a token; printed once, only its hash is kept"
    )
    create.add_argument("name", nargs="?")
    create.add_argument("--name", dest="name_option", help=argparse.SUPPRESS)
    create.add_argument("--org", help=org_help)
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument(
        "--site", action="append", help="limit the token to this site (pk_… or id; repeat)"
    )
    create.add_argument("--expires", help="e.g. 90d, 12h or 2027-01-01 (default: never)")
    create.set_defaults(handler=_tokens_create)
    tls = tokens.add_parser("list", parents=[common], help="list tokens (never their hashes)")
    tls.add_argument("--json", action="store_true")
    tls.set_defaults(handler=_tokens_list)
    revoke = tokens.add_parser("revoke", parents=[common], help="revoke a token at once")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(handler=_tokens_revoke)


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

    _register_tenancy(sub, common)

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
