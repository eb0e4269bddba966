"""Module-scoped live server for the server tests: one start per test module, not per test.

Tests that share it use fresh visitor ids and filter what they read by visitor.
A module sets ``live_env`` (module scope) to pass ``BPRACT_*`` variables.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import apsw
import pytest

from bpract.sites import Site
from support.server import ServerProcess
from support.sites import make_site

ORIGIN = "http://127.0.0.1:8765"


@pytest.fixture(scope="module")
def live_env() -> dict[str, str]:
    return {}


@pytest.fixture(scope="module")
def live_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("live") / "bpract.db"


@pytest.fixture(scope="module")
def live_site(live_db: Path) -> Site:
    return make_site(live_db, origins=[ORIGIN])


@pytest.fixture(scope="module")
def live_server(
    live_db: Path, live_site: Site, live_env: dict[str, str]
) -> Iterator[ServerProcess]:
    proc = ServerProcess(live_db, env=live_env, log_level="info")  # refusals are info lines
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


def rows(db_path: Path, sql: str, *args: object) -> list[tuple[object, ...]]:
    """Rows of ``sql`` read from the server's database file."""
    conn = apsw.Connection(str(db_path))
    try:
        return list(conn.execute(sql, args))
    finally:
        conn.close()
