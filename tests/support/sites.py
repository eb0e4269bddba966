"""Creating organisations, sites and admin tokens directly in a test database.

Without ``org``, sites and tokens go to the database's only organisation (``default``,
made when there is none).  Some test databases insert ``sites`` rows by hand, with no
organisation: ``token_on`` gives such orphan rows to the token's organisation when it is
the default one, so that an owner token reaches them as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import apsw

from bpract.features import MIGRATIONS
from bpract.sites import Organisation, Site, create_org, create_site, find_org, the_only_org
from bpract.sites.auth import create_token
from bpract.store import Database, migrate, transaction

__all__ = ["make_org", "make_site", "make_token", "org_on", "token_on"]


def _with_db(db_path: Path, fn: Any) -> Any:
    db = Database(db_path)
    try:
        db.run_sync(lambda conn: migrate(conn, MIGRATIONS))

        def run(conn: apsw.Connection) -> Any:
            # the write lock first: a test's server may be writing (its start-up sweep)
            with transaction(conn, lock=True):
                return fn(conn)

        return db.run_sync(run)
    finally:
        db.close()


def org_on(conn: apsw.Connection, org: str | None = None) -> Organisation:
    """Organisation ``org`` (made if missing), or the only one (``default`` if none)."""
    if org is None:
        return the_only_org(conn, create=True)
    return find_org(conn, org) or create_org(conn, org)


def token_on(
    conn: apsw.Connection,
    name: str = "tests",
    *,
    role: str = "owner",
    org: str | None = None,
    sites: Sequence[int] | None = None,
    expires_at: str | None = None,
) -> str:
    """A token on an open connection (the caller's transaction, if any)."""
    found = org_on(conn, org)
    if org is None:
        conn.execute("UPDATE sites SET org_id = ? WHERE org_id IS NULL", (found.id,))
    return create_token(conn, name, org_id=found.id, role=role, sites=sites, expires_at=expires_at)


def make_org(db_path: Path, name: str) -> Organisation:
    """A new organisation in the database at ``db_path`` (migrated first)."""
    made: Organisation = _with_db(db_path, lambda conn: create_org(conn, name))
    return made


def make_site(
    db_path: Path, *, name: str = "Test site", origins: list[str], org: str | None = None
) -> Site:
    """A new site in the database at ``db_path`` (migrated first)."""

    def create(conn: apsw.Connection) -> Site:
        return create_site(conn, name=name, origins=origins, org_id=org_on(conn, org).id)

    made: Site = _with_db(db_path, create)
    return made


def make_token(
    db_path: Path,
    name: str = "tests",
    *,
    role: str = "owner",
    org: str | None = None,
    sites: Sequence[int] | None = None,
    expires_at: str | None = None,
) -> str:
    """A new admin token for the database at ``db_path`` (an owner of every site by default)."""
    token: str = _with_db(
        db_path,
        lambda conn: token_on(conn, name, role=role, org=org, sites=sites, expires_at=expires_at),
    )
    return token
