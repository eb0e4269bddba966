"""What every ``bpract`` command stands on: the database it names, migrated, and its site."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

from bpract.errors import BpractError
from bpract.features import MIGRATIONS
from bpract.settings import ServerSettings, get_settings
from bpract.sites import SiteNotFoundError, site_id_for_ref
from bpract.store import Database, migrate

__all__ = [
    "Handler",
    "database_path",
    "db_option",
    "open_db",
    "reporting_errors",
    "site_id",
    "site_option",
]

Handler = Callable[[argparse.Namespace], int]


def database_path(args: argparse.Namespace) -> str:
    """``--db`` if given, else ``BPRACT_DB``."""
    given = getattr(args, "db", None)
    return str(given or get_settings().of(ServerSettings).db)


def open_db(args: argparse.Namespace) -> Database:
    """The database named by ``--db`` (or ``BPRACT_DB``), migrated."""
    db = Database(database_path(args))
    db.run_sync(lambda conn: migrate(conn, MIGRATIONS))
    return db


def site_id(db: Database, ref: str) -> int:
    """The id of the site with public key (or numeric id) ``ref``."""
    found = db.run_sync(lambda conn: site_id_for_ref(conn, ref))
    if found is None:
        raise SiteNotFoundError(f"no site {ref!r} (see `bpract sites list`)")
    return found


def reporting_errors(handler: Handler) -> Handler:
    """``handler`` with a :class:`BpractError` or an unreadable file printed as ``error: …``
    on stderr and exit status 2, instead of a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except BpractError as exc:
            print(f"error: {exc.detail}", file=sys.stderr)
            return 2
        except OSError as exc:
            print(f"error: {exc.strerror or exc}: {exc.filename}", file=sys.stderr)
            return 2

    return run


def db_option() -> argparse.ArgumentParser:
    """A parent parser with ``--db``, accepted after a subcommand too (``rules show --db x``)."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--db", type=Path, default=argparse.SUPPRESS, help="SQLite file")
    return parent


def site_option() -> argparse.ArgumentParser:
    """A parent parser with the required ``--site`` of commands about one site."""
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument("--site", required=True, help="the site's public key (pk_…)")
    return parent
