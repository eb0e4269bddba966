"""A database made by release 0.1.0 upgrades in place to per-feature migrations, data intact."""

from __future__ import annotations

from pathlib import Path

import apsw

from bpract.features import MIGRATIONS
from bpract.sites.auth import Role, hash_token, verify_token
from bpract.store import connect, migrate, pending

FIXTURE = Path(__file__).parent / "fixtures" / "release_0_1_0.sql"


def columns(conn: apsw.Connection) -> dict[str, set[str]]:
    names = [
        str(name)
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {n: {str(row[1]) for row in conn.execute(f"PRAGMA table_info({n})")} for n in names}


def objects(conn: apsw.Connection) -> set[tuple[str, str]]:
    rows = conn.execute("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'")
    return {(str(t), str(n)) for t, n in rows}


def old_database(path: Path) -> apsw.Connection:
    conn = connect(path)
    with conn:
        conn.execute(FIXTURE.read_text(encoding="utf-8"))
    return conn


def test_release_0_1_0_upgrades_in_place(tmp_path: Path) -> None:
    conn = old_database(tmp_path / "old.db")
    tables = ("sites", "frames", "fires", "outreach", "kb_chunks", "kb_vectors", "reviews")
    # the columns release 0.1.0 had (a later migration may add more)
    old_columns = {t: ", ".join(c for _, c, *_ in conn.execute(f"PRAGMA table_info({t})"))
                   for t in tables}  # fmt: skip
    before = {
        t: conn.execute(f"SELECT {old_columns[t]} FROM {t} ORDER BY 1").fetchall() for t in tables
    }
    # The fixture's token, given a hash we can present: it must keep working, as an owner.
    with conn:
        conn.execute("UPDATE admin_tokens SET token_hash = ?", (hash_token("bpa_old"),))
    grounding = "SELECT grounding, grounding_method FROM chat_messages WHERE id = 'r_1'"
    assert conn.execute(grounding).fetchall() == [(0.9, "overlap")]

    recorded = migrate(conn, MIGRATIONS)
    # Only what release 0.1.0 never had runs (organisations, visitor keys, undecided fires,
    # declared actions, tickets, hand-offs, the chat's site settings and owners, the inbox,
    # its notes and console access); the rest is recorded.
    assert [(m.feature, m.version, m.covered_by) for m in recorded] == [
        ("sites", 1, ("core", 1)),
        ("sites", 2, None),
        ("visitors", 1, ("core", 1)),
        ("visitors", 2, None),
        ("triggers", 3, None),
        ("actions", 1, None),
        ("actions", 2, None),
        ("tickets", 1, None),
        ("chat", 2, None),
        ("chat", 3, None),
        ("chat", 4, None),
        ("quality", 2, ("chat", 1)),
        ("inbox", 1, None),
        ("inbox", 2, None),
        ("inbox", 3, None),
        ("inbox", 4, None),
    ]
    assert pending(conn, MIGRATIONS) == []
    for table, rows in before.items():
        assert (
            conn.execute(f"SELECT {old_columns[table]} FROM {table} ORDER BY 1").fetchall() == rows
        )
    # Its sites and tokens now belong to a "default" organisation; the tokens are owners.
    assert conn.execute("SELECT id, name, created_at FROM organisations").fetchall() == [
        (1, "default", "2026-01-01T00:00:00+00:00")
    ]
    assert conn.execute("SELECT DISTINCT org_id FROM sites").fetchall() == [(1,)]
    principal = verify_token(conn, "bpa_old")
    assert principal is not None
    assert (principal.name, principal.org_id, principal.role) == ("ops", 1, Role.OWNER)
    assert principal.sites is None and principal.reaches(1, 1)
    assert conn.execute(grounding).fetchall() == [(0.9, "overlap")]
    hits = "SELECT rowid FROM kb_fts WHERE kb_fts MATCH 'refunds'"
    assert conn.execute(hits).fetchall() == [(1,)]
    assert migrate(conn, MIGRATIONS) == []  # idempotent

    fresh = connect(tmp_path / "new.db")
    migrate(fresh, MIGRATIONS)
    assert columns(conn) == columns(fresh)  # the same tables and columns as a new database
    assert objects(conn) == objects(fresh)
    conn.close()
    fresh.close()


def test_the_upgraded_database_takes_new_writes(tmp_path: Path) -> None:
    conn = old_database(tmp_path / "old.db")
    migrate(conn, MIGRATIONS)
    with conn:
        conn.execute("INSERT INTO sites VALUES (2, 'pk_new', 'New', '[]', 'sk_new', 'now', 1)")
        conn.execute("INSERT INTO frames VALUES (2, 'v', 's', 1, 'signal', 1, 1, '{}')")
        conn.execute(
            "UPDATE chat_messages SET grounding = 0.5, grounding_method = 'nli' WHERE id = 'r_1'"
        )
    assert conn.execute("SELECT count(*) FROM sites").fetchone() == (2,)
    conn.close()
