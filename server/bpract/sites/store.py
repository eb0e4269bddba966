"""Create, list and read sites in the ``sites`` table."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

import apsw

from bpract.errors import BpractError
from bpract.sites.orgs import the_only_org
from bpract.sites.origins import normalize_origin
from bpract.store import insert_id

__all__ = [
    "Site",
    "SiteNotFoundError",
    "create_site",
    "get_site",
    "get_site_by_key",
    "list_sites",
    "new_identity_secret",
    "new_public_key",
    "rotate_identity_secret",
    "site_id_for_key",
    "site_id_for_ref",
    "site_owner",
]

_SELECT = (
    "SELECT id, public_key, name, allowed_origins, identity_secret, created_at, org_id FROM sites"
)


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
    org_id: int | None = None
    """The organisation that owns the site (None only for a row made outside this code)."""


def new_public_key() -> str:
    """``pk_`` + 24 url-safe characters."""
    return "pk_" + secrets.token_urlsafe(18)


def new_identity_secret() -> str:
    """``sk_`` + 43 url-safe characters: the key a site's backend signs user ids with."""
    return "sk_" + secrets.token_urlsafe(32)


def _row(row: tuple[object, ...]) -> Site:
    id_, key, name, origins, secret, created, org = row
    return Site(
        id=int(str(id_)),
        public_key=str(key),
        name=str(name),
        allowed_origins=list(json.loads(str(origins))),
        identity_secret=str(secret),
        created_at=str(created),
        org_id=None if org is None else int(str(org)),
    )


def create_site(
    conn: apsw.Connection, *, name: str, origins: list[str], org_id: int | None = None
) -> Site:
    """Insert a site of organisation ``org_id`` with fresh keys; origins are normalised.

    Without ``org_id`` the site goes to the database's only organisation (``default``,
    made if there is none); with several, name one.
    """
    if not name.strip():
        raise ValueError("a site needs a name")
    allowed = sorted({normalize_origin(o) for o in origins})
    created = datetime.now(UTC).isoformat(timespec="seconds")
    if org_id is None:
        org_id = the_only_org(conn, create=True).id
    key, secret = new_public_key(), new_identity_secret()
    site_id = insert_id(
        conn,
        "INSERT INTO sites (public_key, name, allowed_origins, identity_secret, created_at,"
        " org_id) VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
        (key, name.strip(), json.dumps(allowed), secret, created, org_id),
    )
    return Site(
        id=site_id,
        public_key=key,
        name=name.strip(),
        allowed_origins=allowed,
        identity_secret=secret,
        created_at=created,
        org_id=org_id,
    )


def list_sites(conn: apsw.Connection, *, org_id: int | None = None) -> list[Site]:
    """Every site, or only organisation ``org_id``'s."""
    if org_id is None:
        return [_row(r) for r in conn.execute(_SELECT + " ORDER BY id")]
    return [_row(r) for r in conn.execute(_SELECT + " WHERE org_id = ? ORDER BY id", (org_id,))]


def rotate_identity_secret(conn: apsw.Connection, site_id: int) -> str:
    """Give site ``site_id`` a new identity secret (the old one stops verifying); the new one."""
    secret = new_identity_secret()
    done = conn.execute(
        "UPDATE sites SET identity_secret = ? WHERE id = ? RETURNING id", (secret, site_id)
    ).fetchall()
    if not done:
        raise SiteNotFoundError(f"no site with id {site_id}")
    return secret


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


def site_owner(conn: apsw.Connection, ref: str | int) -> tuple[int, int | None] | None:
    """``(site id, organisation id)`` of the site with public key (str) or id (int) ``ref``."""
    if isinstance(ref, int):
        row = conn.execute("SELECT id, org_id FROM sites WHERE id = ?", (ref,)).fetchone()
    else:
        row = conn.execute("SELECT id, org_id FROM sites WHERE public_key = ?", (ref,)).fetchone()
    return None if row is None else (int(row[0]), None if row[1] is None else int(row[1]))
