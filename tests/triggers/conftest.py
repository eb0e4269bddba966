"""Fixtures for the trigger tests: a migrated SQLite file, a site, a fake clock, the service."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bpract.features import MIGRATIONS
from bpract.store import Database, migrate
from bpract.triggers.service import TriggerService
from triggers.support import FakeClock, add_site


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bpract.db"


@pytest.fixture
def db(db_path: Path) -> Iterator[Database]:
    database = Database(db_path)
    database.run_sync(lambda c: migrate(c, MIGRATIONS))
    yield database
    database.close()


@pytest.fixture
def site_id(db: Database) -> int:
    return db.run_sync(lambda conn: add_site(conn, "pk_site_one"))


@pytest.fixture
def other_site_id(db: Database) -> int:
    return db.run_sync(lambda conn: add_site(conn, "pk_site_two"))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def service(db: Database, clock: FakeClock) -> AsyncIterator[TriggerService]:
    yield TriggerService(db, None, now_ms=clock)
