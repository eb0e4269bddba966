"""The sites and visitor tables: created from scratch, and an older schema upgraded in place."""

from __future__ import annotations

from pathlib import Path

import apsw
import pytest

from bpract.features import MIGRATIONS
from bpract.store import connect, migrate
from bpract.store.migrate import pending


def tables(conn: apsw.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_core_tables_exist_with_their_keys(tmp_path: Path) -> None:
    conn = connect(tmp_path / "new.db")
    migrate(conn, MIGRATIONS)
    assert {
        "sites",
        "organisations",
        "admin_tokens",
        "admin_token_sites",
        "visitors",
        "sessions",
        "frames",
        "signals",
        "engine_states",
    } <= tables(conn)
    indexes = {
        r[0]
        for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'signals'"
        )
    }
    assert {"signals_visitor", "signals_name"} <= indexes
    (sql,) = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'frames'").fetchone()
    assert "WITHOUT ROWID" in sql
    conn.execute("INSERT INTO sites VALUES (1, 'pk_a', 'A', '[]', 'sk_a', 'now', NULL)")
    conn.execute("INSERT INTO frames VALUES (1, 'v', 's', 1, 'signal', 1, 1, '{}')")
    with pytest.raises(apsw.ConstraintError):
        conn.execute("INSERT INTO frames VALUES (1, 'v', 's', 1, 'signal', 2, 2, '{}')")
    with pytest.raises(apsw.ConstraintError):  # foreign key to sites
        conn.execute("INSERT INTO frames VALUES (2, 'v', 's', 1, 'signal', 1, 1, '{}')")
    conn.close()


def test_a_database_at_an_older_schema_upgrades_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = connect(path)
    core = MIGRATIONS[:2]  # a release that had only the sites and visitor tables
    applied = migrate(conn, core)
    assert {m.feature for m in applied} == {"sites", "visitors"}
    with conn:
        conn.execute(
            "INSERT INTO sites VALUES (1, 'pk_old', 'Old', '[]', 'sk_x', '2026-01-01', NULL)"
        )
        conn.execute(
            "INSERT INTO frames VALUES (1, 'v_1', 's_1', 1, 'signal', 5, 6, '{\"t\":\"signal\"}')"
        )
        conn.execute("INSERT INTO visitors VALUES (1, 'v_1', 1, 2, '42', NULL)")
    assert pending(conn, MIGRATIONS)  # the newer features' migrations are waiting
    conn.close()

    conn = connect(path)
    later = migrate(conn, MIGRATIONS)
    assert {m.feature for m in later} == {m.feature for m in MIGRATIONS[2:]}
    assert pending(conn, MIGRATIONS) == []
    assert conn.execute("SELECT public_key, name FROM sites").fetchall() == [("pk_old", "Old")]
    assert conn.execute("SELECT visitor, seq, body FROM frames").fetchall() == [
        ("v_1", 1, '{"t":"signal"}')
    ]
    assert conn.execute("SELECT user_id FROM visitors").fetchall() == [("42",)]
    assert migrate(conn, MIGRATIONS) == []  # idempotent
    conn.close()
