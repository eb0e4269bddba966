"""``bpract actions …``: load, show, validate and import declared actions; read their audit."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import msgspec
import yaml

from bpract.actions.errors import ActionsInvalidError
from bpract.actions.openapi import import_operations
from bpract.actions.service import ActionService
from bpract.actions.settings import ActionSettings
from bpract.actions.spec import check_base_url, load_actions, parse_source, validate_actions
from bpract.command import db_option, open_db, reporting_errors, site_id, site_option
from bpract.net import NetSettings
from bpract.settings import Settings

__all__ = ["register"]

T = TypeVar("T")


def _with_service(
    args: argparse.Namespace, work: Callable[[ActionService, int], Coroutine[Any, Any, T]]
) -> T:
    db = open_db(args)
    try:
        site = site_id(db, args.site)
        return asyncio.run(work(ActionService(db), site))
    finally:
        db.close()


def _print_errors(exc: ActionsInvalidError) -> int:
    for error in exc.errors:
        print(f"{error.path}: {error.message}", file=sys.stderr)
    return 1


def _checked(path: Path) -> tuple[str, Any]:
    """The file's text and its validated action set, base URL reachable by the guard."""
    source = path.read_text(encoding="utf-8")
    settings = Settings.read()
    actions = load_actions(source, max_actions=settings.of(ActionSettings).max_actions)
    asyncio.run(check_base_url(actions, settings.of(NetSettings)))
    return source, actions


def _load(args: argparse.Namespace) -> int:
    try:
        source, actions = _checked(args.file)
    except ActionsInvalidError as exc:
        return _print_errors(exc)

    async def work(service: ActionService, site: int) -> int:
        return await service.save(site, actions, source=source, author=args.author)

    version = _with_service(args, work)
    print(f"{args.site}: version {version}, {len(actions.actions)} action(s)")
    return 0


def _show(args: argparse.Namespace) -> int:
    async def work(service: ActionService, site: int) -> Any:
        return await service.current(site)

    stored = _with_service(args, work)
    if stored is None:
        print(f"{args.site}: no actions declared", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps({"version": stored.version, "actions": stored.body}, indent=2))
    else:
        print(f"# version {stored.version}, by {stored.author or '-'} at {stored.created_at}")
        print(stored.source.rstrip("\n"))
    return 0


def _validate(args: argparse.Namespace) -> int:
    try:
        _, actions = _checked(args.file)
    except ActionsInvalidError as exc:
        return _print_errors(exc)
    print(f"ok: {len(actions.actions)} action(s)")
    return 0


def _import(args: argparse.Namespace) -> int:
    try:
        document = parse_source(args.file.read_text(encoding="utf-8"))
        made = import_operations(
            document, args.operation, base_url=args.base_url, auth_env=args.auth_env
        )
        validate_actions(made)
    except ActionsInvalidError as exc:
        return _print_errors(exc)
    print(yaml.safe_dump(made, sort_keys=False, allow_unicode=True).rstrip("\n"))
    return 0


def _audit(args: argparse.Namespace) -> int:
    limit = Settings.read().of(ActionSettings).audit_page

    async def work(service: ActionService, site: int) -> Any:
        return await service.audit(
            site, conversation=args.conversation, visitor=args.visitor, limit=limit
        )

    events = _with_service(args, work)
    if args.json:
        print(msgspec.json.encode(events).decode())
        return 0
    for e in events:
        reason = f" ({e.reason})" if e.reason else ""
        print(f"{e.at}  {e.conversation}  {e.visitor}  {e.action}  {e.event}{reason}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``actions load|show|validate|import|audit`` to the ``bpract`` command line."""
    common, site = db_option(), site_option()
    actions = subparsers.add_parser("actions", help="declared actions").add_subparsers(
        dest="actions_command", required=True
    )
    load = actions.add_parser("load", parents=[common, site], help="save FILE as the next version")
    load.add_argument("file", type=Path)
    load.add_argument("--author", default="cli")
    load.set_defaults(handler=reporting_errors(_load))
    show = actions.add_parser("show", parents=[common, site], help="print the current actions")
    show.add_argument("--json", action="store_true", help="the validated JSON")
    show.set_defaults(handler=reporting_errors(_show))
    validate = actions.add_parser("validate", help="check FILE without saving it")
    validate.add_argument("file", type=Path)
    validate.set_defaults(handler=reporting_errors(_validate))
    imports = actions.add_parser(
        "import", help="print declared actions (YAML) made from OpenAPI 3 operations"
    )
    imports.add_argument("file", type=Path, help="an OpenAPI 3 document (JSON or YAML)")
    imports.add_argument("--operation", action="append", required=True, help="an operationId")
    imports.add_argument("--base-url", help="instead of the document's first server")
    imports.add_argument("--auth-env", help="environment variable holding the API's secret")
    imports.set_defaults(handler=reporting_errors(_import))
    audit = actions.add_parser("audit", parents=[common, site], help="proposals and results")
    audit.add_argument("--conversation")
    audit.add_argument("--visitor")
    audit.add_argument("--json", action="store_true")
    audit.set_defaults(handler=reporting_errors(_audit))
