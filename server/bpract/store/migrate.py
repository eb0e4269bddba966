"""Versioned schema migrations, one numbered sequence per feature.

Each feature keeps its own ``migrations/NNNN_name.sql`` files beside its code,
so features add tables without colliding on numbers.  Applied versions are
recorded in ``schema_migrations``; a database made by an older release is
brought up to date in place, one transaction per file.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

import apsw

__all__ = ["FEATURES", "Migration", "migrate", "pending"]

#: Features that own tables, in the order their migrations apply (dependencies first).
FEATURES: tuple[str, ...] = ("core", "triggers", "llm", "kb", "chat", "quality")

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    feature: str
    version: int
    name: str
    sql: str


def _discover(feature: str) -> list[Migration]:
    # Read the files beside the package without importing the feature: importing
    # ``bpract.llm`` would load the provider SDKs just to migrate.
    root = resources.files("bpract").joinpath(feature, "migrations")
    if not root.is_dir():
        return []
    found = []
    for entry in root.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(
                Migration(feature, int(match[1]), match[2], entry.read_text(encoding="utf-8"))
            )
    return sorted(found, key=lambda m: m.version)


def _ensure_table(conn: apsw.Connection) -> None:
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations ("
        " feature TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,"
        " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),"
        " PRIMARY KEY (feature, version))"
    )


def pending(conn: apsw.Connection, features: tuple[str, ...] = FEATURES) -> list[Migration]:
    """Migrations not yet applied to ``conn``, in application order."""
    _ensure_table(conn)
    done = {(f, v) for f, v in conn.execute("SELECT feature, version FROM schema_migrations")}
    return [m for f in features for m in _discover(f) if (m.feature, m.version) not in done]


def migrate(conn: apsw.Connection, features: tuple[str, ...] = FEATURES) -> list[Migration]:
    """Apply every pending migration; returns what was applied."""
    applied = pending(conn, features)
    for m in applied:
        with conn:
            conn.execute(m.sql)
            conn.execute(
                "INSERT INTO schema_migrations (feature, version, name) VALUES (?, ?, ?)",
                (m.feature, m.version, m.name),
            )
    return applied
