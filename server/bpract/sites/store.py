"""Create, list and read sites in the ``sites`` table."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import apsw

from bpract.errors import BpractError
from bpract.sites.origins import normalize_origin
from bpract.store import insert_id

__all__ = [
    "Site",
    "SiteNotFoundError",
    "create_site",
    "get_site",
    "get_site_by_key",
    "list_sites",
    "new_public_key",
    "site_id_for_key",
    "site_id_for_ref",
]

_SELECT = "SELECT id, public_key, name, allowed_origins, identity_secret, created_at FROM sites"


class SiteNotFoundError(BpractError, LookupError):
    """No site with that id or public key."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Site:
    id: int
    public_key: str
    name: str
    allowed_origins: list[str]
    identity_secret: str
    created_at: str


def new_public_key() -> str:
    """``pk_`` + 24 url-safe characters."""
    return "pk_" + secrets.token_urlsafe(18)


def _row(row: tuple[object, ...]) -> Site:
    id_, key, name, origins, secret, created = row
    return Site(
        id=int(str(id_)),
        public_key=str(key),
        name=str(name),
        allowed_origins=list(json.loads(str(origins))),
        identity_secret=str(secret),
        created_at=str(created),
    )


def create_site(conn: apsw.Connection, *, name: str, origins: list[str]) -> Site:
    """Insert a site with fresh keys; origins are validated and normalised."""
    if not name.strip():
        raise ValueError("a site needs a name")
    allowed = sorted({normalize_origin(o) for o in origins})
    created = datetime.now(UTC).isoformat(timespec="seconds")
    key, secret = new_public_key(), "sk_" + secrets.token_urlsafe(32)
    site_id = insert_id(
        conn,
        "INSERT INTO sites (public_key, name, allowed_origins, identity_secret, created_at)"
        " VALUES (?, ?, ?, ?, ?) RETURNING id",
        (key, name.strip(), json.dumps(allowed), secret, created),
    )
    return Site(
        id=site_id,
        public_key=key,
        name=name.strip(),
        allowed_origins=allowed,
        identity_secret=secret,
        created_at=created,
    )


def list_sites(conn: apsw.Connection) -> list[Site]:
    return [_row(r) for r in conn.execute(_SELECT + " ORDER BY id")]


def get_site(conn: apsw.Connection, site_id: int) -> Site:
    for row in conn.execute(_SELECT + " WHERE id = ?", (site_id,)):
        return _row(row)
    raise SiteNotFoundError(f"no site with id {site_id}")


def site_id_for_key(conn: apsw.Connection, public_key: str) -> int | None:
    """The id of the site with this public key, or None."""
    row = conn.execute("SELECT id FROM sites WHERE public_key = ?", (public_key,)).fetchone()
    return None if row is None else int(row[0])


def site_id_for_ref(conn: apsw.Connection, ref: str) -> int | None:
    """A site as named on the command line: its public key, or its numeric id."""
    site_id = site_id_for_key(conn, ref)
    if site_id is None and ref.isdigit():
        row = conn.execute("SELECT id FROM sites WHERE id = ?", (int(ref),)).fetchone()
        site_id = None if row is None else int(row[0])
    return site_id


def get_site_by_key(conn: apsw.Connection, public_key: str) -> Site:
    for row in conn.execute(_SELECT + " WHERE public_key = ?", (public_key,)):
        return _row(row)
    raise SiteNotFoundError("no site with that public key")
