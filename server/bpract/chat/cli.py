"""``bpract chat …``: show and change a site's chat settings."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from bpract.chat import site_settings
from bpract.chat.site_settings import SiteChatSettings
from bpract.clock import now_ms
from bpract.command import db_option, open_db, reporting_errors, site_id, site_option

__all__ = ["register"]

_SWITCH = {"on": True, "off": False}


def _settings(args: argparse.Namespace) -> int:
    db = open_db(args)
    try:
        site = site_id(db, args.site)
        current = asyncio.run(site_settings.load(db, site))
        if args.handoff_on_failure is not None:
            change = {"handoff_on_failure": _SWITCH[args.handoff_on_failure]}
            current = site_settings.updated(current, change)
            asyncio.run(site_settings.save(db, site, current, at_ms=now_ms()))
    finally:
        db.close()
    _print(current)
    return 0


def _print(settings: SiteChatSettings) -> None:
    print(f"handoff_on_failure: {'on' if settings.handoff_on_failure else 'off'}")


def register(subparsers: Any) -> None:
    """Add ``chat settings`` to the ``bpract`` command line."""
    chat = subparsers.add_parser("chat", help="the chat").add_subparsers(
        dest="chat_command", required=True
    )
    settings = chat.add_parser(
        "settings", parents=[db_option(), site_option()], help="print (and change) the settings"
    )
    settings.add_argument(
        "--handoff-on-failure", choices=sorted(_SWITCH), help="hand off on repeated failure"
    )
    settings.set_defaults(handler=reporting_errors(_settings))
