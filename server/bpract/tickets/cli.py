"""``bpract tickets …``: a site's webhook, signing secret and business hours; its tickets."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

from bpract.command import db_option, open_db, reporting_errors, site_id, site_option
from bpract.net import NetSettings
from bpract.settings import Settings
from bpract.tickets.errors import TicketSettingsError
from bpract.tickets.hours import hours_from_text
from bpract.tickets.service import SiteTickets, TicketService
from bpract.tickets.settings import TicketSettings

__all__ = ["register"]

T = TypeVar("T")


def _with_service(
    args: argparse.Namespace, work: Callable[[TicketService, int], Coroutine[Any, Any, T]]
) -> T:
    settings = Settings.read()
    db = open_db(args)
    try:
        site = site_id(db, args.site)

        async def run() -> T:
            service = TicketService(db, settings.of(TicketSettings), net=settings.of(NetSettings))
            try:
                return await work(service, site)
            finally:
                await service.aclose()

        return asyncio.run(run())
    finally:
        db.close()


def _settings(args: argparse.Namespace) -> int:
    changes: dict[str, Any] = {}
    if args.webhook is not None:
        changes["webhook_url"] = args.webhook
    if args.always:
        changes["hours"] = None
    elif args.hours_file is not None:
        with open(args.hours_file, encoding="utf-8") as f:
            text = f.read()
        try:
            hours = hours_from_text(text)
        except TicketSettingsError as exc:
            print(f"error: {args.hours_file}: {exc.field}: {exc.detail}", file=sys.stderr)
            return 2
        changes["hours"] = None if hours is None else _schedule_dict(hours)
    if args.rotate_secret:
        changes["rotate_secret"] = True

    async def work(service: TicketService, site: int) -> tuple[SiteTickets, str | None]:
        if not changes:
            return await service.load(site), None
        return await service.change(site, changes)

    try:
        current, secret = _with_service(args, work)
    except TicketSettingsError as exc:
        print(f"error: {exc.field}: {exc.detail}", file=sys.stderr)
        return 2
    if args.json:
        out = {"webhook_url": current.webhook_url, "secret_set": current.secret_set,
               "hours": None if current.hours is None else _schedule_dict(current.hours),
               "secret": secret}  # fmt: skip
        print(json.dumps(out))
        return 0
    print(f"webhook_url: {current.webhook_url or '(none: tickets are only listed)'}")
    print(f"secret: {'set' if current.secret_set else 'none'}")
    h = current.hours
    shown = "always open" if h is None else f"{','.join(h.days)} {h.start}-{h.end} {h.tz}"
    print(f"hours: {shown}")
    if secret is not None:
        print(f"new signing secret (shown once): {secret}")
    return 0


def _schedule_dict(hours: Any) -> dict[str, Any]:
    return {"days": list(hours.days), "start": hours.start, "end": hours.end, "tz": hours.tz}


def _when(ms: int | None) -> str:
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")


def _list(args: argparse.Namespace) -> int:
    rows = _with_service(args, lambda service, site: service.list([site], args.limit))
    if args.json:
        print(json.dumps([
            {"id": r.id, "created_at": _when(r.created_ms), "email": r.email,
             "question": r.question, "visitor": r.visitor, "lang": r.lang, "state": r.state,
             "attempts": r.attempts, "delivered_at": r.delivered_ms and _when(r.delivered_ms),
             "last_error": r.last_error}
            for r in rows
        ]))  # fmt: skip
        return 0
    for r in rows:
        error = f"  ({r.last_error})" if r.last_error else ""
        print(f"{r.id}  {_when(r.created_ms)}  {r.state:<9} {r.attempts}x  {r.email}{error}")
    return 0


def register(subparsers: Any) -> None:
    """Add ``tickets settings`` and ``tickets list`` to the ``bpract`` command line."""
    tickets = subparsers.add_parser("tickets", help="offline tickets").add_subparsers(
        dest="tickets_command", required=True
    )
    settings = tickets.add_parser(
        "settings", parents=[db_option(), site_option()],
        help="print (and change) the webhook, signing secret and business hours",
    )  # fmt: skip
    settings.add_argument("--webhook", help="the webhook URL (http/https; '' for none)")
    hours = settings.add_mutually_exclusive_group()
    hours.add_argument("--hours-file", help="business hours: YAML or JSON {days, start, end, tz}")
    hours.add_argument("--always", action="store_true", help="no business hours: always open")
    settings.add_argument(
        "--rotate-secret", action="store_true", help="make a new signing secret (shown once)"
    )
    settings.add_argument("--json", action="store_true", help="print JSON")
    settings.set_defaults(handler=reporting_errors(_settings))
    listing = tickets.add_parser(
        "list", parents=[db_option(), site_option()], help="the site's tickets, newest first"
    )
    listing.add_argument("--limit", type=int, default=50)
    listing.add_argument("--json", action="store_true", help="print JSON")
    listing.set_defaults(handler=reporting_errors(_list))
