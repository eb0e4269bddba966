"""Organisations: who owns sites and admin tokens (SQL of the ``organisations`` table)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import apsw

from bpract.errors import BpractError
from bpract.store import insert_id

__all__ = [
    "DEFAULT_ORG",
    "OrgNotFoundError",
    "Organisation",
    "create_org",
    "find_org",
    "list_orgs",
    "the_only_org",
]

DEFAULT_ORG = "default"
"""The organisation a database made before organisations existed puts its sites in."""


class OrgNotFoundError(BpractError, LookupError):
    """No organisation by that name or id, or no single one to choose."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Organisation:
    id: int
    name: str
    created_at: str


def _row(row: tuple[object, ...]) -> Organisation:
    id_, name, created = row
    return Organisation(id=int(str(id_)), name=str(name), created_at=str(created))


def create_org(conn: apsw.Connection, name: str) -> Organisation:
    """A new organisation; names are unique."""
    name = name.strip()
    if not name:
        raise ValueError("an organisation needs a name")
    if find_org(conn, name) is not None:
        raise ValueError(f"an organisation named {name!r} exists already")
    created = datetime.now(UTC).isoformat(timespec="seconds")
    org_id = insert_id(
        conn,
        "INSERT INTO organisations (name, created_at) VALUES (?, ?) RETURNING id",
        (name, created),
    )
    return Organisation(id=org_id, name=name, created_at=created)


def list_orgs(conn: apsw.Connection) -> list[Organisation]:
    return [_row(r) for r in conn.execute("SELECT id, name, created_at FROM organisations")]


def find_org(conn: apsw.Connection, ref: str) -> Organisation | None:
    """The organisation named ``ref`` (or with that numeric id), or None."""
    sql = "SELECT id, name, created_at FROM organisations WHERE name = ?"
    row = conn.execute(sql, (ref.strip(),)).fetchone()
    if row is None and ref.strip().isdigit():
        sql = "SELECT id, name, created_at FROM organisations WHERE id = ?"
        row = conn.execute(sql, (int(ref),)).fetchone()
    return None if row is None else _row(row)


def the_only_org(conn: apsw.Connection, *, create: bool = False) -> Organisation:
    """The database's one organisation (made as ``default`` if there is none and ``create``).

    Raises :class:`OrgNotFoundError` when there are several (or none): name one.
    """
    orgs = list_orgs(conn)
    if len(orgs) == 1:
        return orgs[0]
    if not orgs and create:
        return create_org(conn, DEFAULT_ORG)
    if not orgs:
        raise OrgNotFoundError("no organisation yet (create one with `bpract orgs add NAME`)")
    names = ", ".join(o.name for o in orgs)
    raise OrgNotFoundError(f"there are several organisations ({names}): name one with --org")
