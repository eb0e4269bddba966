"""Creating sites and admin tokens directly in a test database."""

from __future__ import annotations

from pathlib import Path

from bpract.features import MIGRATIONS
from bpract.sites import Site, create_site
from bpract.sites.auth import create_token
from bpract.store import Database, migrate

__all__ = ["make_site", "make_token"]


def make_site(db_path: Path, *, name: str = "Test site", origins: list[str]) -> Site:
    """A new site in the database at ``db_path`` (migrated first)."""
    db = Database(db_path)
    try:
        db.run_sync(lambda conn: migrate(conn, MIGRATIONS))

        def create(conn: object) -> Site:
            with conn:  # type: ignore[attr-defined]
                return create_site(conn, name=name, origins=origins)  # type: ignore[arg-type]

        return db.run_sync(create)
    finally:
        db.close()


def make_token(db_path: Path, name: str = "tests") -> str:
    """A new admin token for the database at ``db_path``."""
    db = Database(db_path)
    try:
        db.run_sync(lambda conn: migrate(conn, MIGRATIONS))

        def create(conn: object) -> str:
            with conn:  # type: ignore[attr-defined]
                return create_token(conn, name)  # type: ignore[arg-type]

        return db.run_sync(create)
    finally:
        db.close()
