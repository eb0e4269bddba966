"""Versioned schema migrations, one numbered sequence per feature.

Each feature keeps its own ``migrations/NNNN_name.sql`` files beside its code,
so features add tables without colliding on numbers.  Applied versions are
recorded in ``schema_migrations``; a database made by an older release is
brought up to date in place, one transaction per file.  The store knows no
feature: callers pass the sources, in dependency order.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

import apsw

from bpract.store.sqlite import transaction

__all__ = ["Migration", "Migrations", "migrate", "pending"]

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migrations:
    """Where one feature's migrations live, and which older records already cover some."""

    feature: str
    """The name recorded in ``schema_migrations``."""
    package: str
    """The dotted package holding ``migrations/`` (read as files, never imported)."""
    replaces: Mapping[int, tuple[str, int]] = field(default_factory=dict)
    """``{version: (feature, version)}``: a database with that older record already has
    this version's schema (tables moved between features), so it is recorded, not run."""


@dataclass(frozen=True, slots=True)
class Migration:
    feature: str
    version: int
    name: str
    sql: str
    covered_by: tuple[str, int] | None = None
    """Set when the migration was recorded without running (see :attr:`Migrations.replaces`)."""


def _discover(source: Migrations) -> list[Migration]:
    # Read the files beside the package without importing it: importing
    # ``bpract.llm`` would load the provider SDKs just to migrate.
    top, *rest = source.package.split(".")
    root = resources.files(top).joinpath(*rest, "migrations")
    if not root.is_dir():
        return []
    found = []
    for entry in root.iterdir():
        match = _NAME.match(entry.name)
        if match:
            sql = entry.read_text(encoding="utf-8")
            found.append(Migration(source.feature, int(match[1]), match[2], sql))
    return sorted(found, key=lambda m: m.version)


def _ensure_table(conn: apsw.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " feature TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
        " PRIMARY KEY (feature, version))"
    )


def pending(conn: apsw.Connection, sources: Sequence[Migrations]) -> list[Migration]:
    """Migrations not yet recorded on ``conn``, in application order."""
    _ensure_table(conn)
    done = {(f, v) for f, v in conn.execute("SELECT feature, version FROM schema_migrations")}
    out = []
    for source in sources:
        for m in _discover(source):
            if (m.feature, m.version) in done:
                continue
            cover = source.replaces.get(m.version)
            covered = cover if cover is not None and cover in done else None
            out.append(Migration(m.feature, m.version, m.name, m.sql, covered))
    return out


def migrate(conn: apsw.Connection, sources: Sequence[Migrations]) -> list[Migration]:
    """Apply (or, when covered, record) every pending migration; returns them."""
    applied = pending(conn, sources)
    for m in applied:
        with transaction(conn):
            if m.covered_by is None:
                conn.execute(m.sql)
            conn.execute(
                "INSERT INTO schema_migrations (feature, version, name) VALUES (?, ?, ?)",
                (m.feature, m.version, m.name),
            )
    return applied
