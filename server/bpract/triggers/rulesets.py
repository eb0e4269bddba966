"""Ruleset versions in SQL: every change is a new row; the highest version is current."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import apsw

__all__ = [
    "StoredRuleset",
    "at_version",
    "insert_version",
    "latest",
    "latest_versions",
    "list_versions",
]


@dataclass(frozen=True, slots=True)
class StoredRuleset:
    site_id: int
    version: int
    body: dict[str, Any]
    source: str
    author: str
    created_at: str


_COLUMNS = "site_id, version, body, source, author, created_at"


def _row(row: tuple[Any, ...]) -> StoredRuleset:
    site_id, version, body, source, author, created_at = row
    return StoredRuleset(site_id, version, json.loads(body), source, author, created_at)


def latest(conn: apsw.Connection, site_id: int) -> StoredRuleset | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM rulesets WHERE site_id = ? ORDER BY version DESC LIMIT 1",  # noqa: S608
        (site_id,),
    ).fetchone()
    return None if row is None else _row(row)


def latest_versions(conn: apsw.Connection) -> dict[int, int]:
    """The current version of every site that saved a ruleset."""
    rows = conn.execute("SELECT site_id, MAX(version) FROM rulesets GROUP BY site_id")
    return {int(site): int(version) for site, version in rows}


def at_version(conn: apsw.Connection, site_id: int, version: int) -> StoredRuleset | None:
    row = conn.execute(
        f"SELECT {_COLUMNS} FROM rulesets WHERE site_id = ? AND version = ?",  # noqa: S608
        (site_id, version),
    ).fetchone()
    return None if row is None else _row(row)


def list_versions(conn: apsw.Connection, site_id: int) -> list[StoredRuleset]:
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM rulesets WHERE site_id = ? ORDER BY version DESC",  # noqa: S608
        (site_id,),
    )
    return [_row(row) for row in rows]


def insert_version(conn: apsw.Connection, ruleset: StoredRuleset) -> None:
    conn.execute(
        "INSERT INTO rulesets (site_id, version, body, source, author) VALUES (?, ?, ?, ?, ?)",
        (
            ruleset.site_id,
            ruleset.version,
            json.dumps(ruleset.body, separators=(",", ":")),
            ruleset.source,
            ruleset.author,
        ),
    )
