"""Admin tokens and the guard of the admin API.

A token belongs to an organisation, has a role, may be limited to chosen sites and
may expire; it is printed once and stored as sha256.  ``admin_guard`` resolves the
bearer token to a :class:`Principal` and checks it against the :class:`Permission`
the route handler declares with ``opt=requires(...)``.  It fails closed: a handler
that declares nothing is refused, whoever calls it.  A site the caller's token cannot
reach answers 404 exactly like a site that does not exist; a reachable site with a
role too weak for the operation answers 403.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import apsw
from litestar.exceptions import NotAuthorizedException, NotFoundException, PermissionDeniedException

from bpract.sites.store import site_owner
from bpract.sites.tokens import insert_token, use_token

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.handlers.base import BaseRouteHandler

    from bpract.store import Database

__all__ = [
    "ACTIONS_WRITE",
    "BUDGETS_WRITE",
    "REVIEWS_WRITE",
    "RULES_WRITE",
    "SITES_CREATE",
    "SITES_LIST",
    "SITE_READ",
    "SITE_SECRET",
    "Permission",
    "Principal",
    "Role",
    "admin_guard",
    "create_token",
    "hash_token",
    "parse_expiry",
    "principal_of",
    "requires",
    "scoped_site_id",
    "verify_token",
]

log = logging.getLogger(__name__)

_PREFIX = "bpa_"
_STATE_PRINCIPAL = "bpract.principal"
_STATE_SITE = "bpract.site_id"
_SITE_PARAMS = ("site_key", "site_id")


class Role(StrEnum):
    OWNER = "owner"
    MARKETER = "marketer"
    AGENT = "agent"
    READ_ONLY = "read-only"


@dataclass(frozen=True, slots=True, kw_only=True)
class Principal:
    """Who an admin request acts as: its token, organisation, role and reachable sites."""

    token_id: int
    name: str
    org_id: int
    role: Role
    sites: frozenset[int] | None
    """The sites a limited token may reach; None: every site of its organisation."""

    def reaches(self, site_id: int, org_id: int | None) -> bool:
        """Whether this principal may see site ``site_id`` of organisation ``org_id`` at all."""
        return org_id == self.org_id and (self.sites is None or site_id in self.sites)


@dataclass(frozen=True, slots=True, kw_only=True)
class Permission:
    """What a route handler needs: which roles, and whether its path names a site."""

    name: str
    roles: frozenset[Role]
    site: bool
    """The path names one site (``{site_key}`` or ``{site_id}``) that must be reachable."""
    whole_org: bool = False
    """Refused to a token limited to chosen sites."""


_ALL = frozenset(Role)
SITE_READ = Permission(name="site.read", roles=_ALL, site=True)
RULES_WRITE = Permission(
    name="rules.write", roles=frozenset({Role.OWNER, Role.MARKETER}), site=True
)
ACTIONS_WRITE = Permission(name="actions.write", roles=frozenset({Role.OWNER}), site=True)
"""Declaring what the chat may do in the business's systems: the owner's alone."""
BUDGETS_WRITE = Permission(name="budgets.write", roles=frozenset({Role.OWNER}), site=True)
REVIEWS_WRITE = Permission(
    name="reviews.write", roles=frozenset({Role.OWNER, Role.MARKETER, Role.AGENT}), site=True
)
SITE_SECRET = Permission(
    name="site.secret", roles=frozenset({Role.OWNER}), site=True, whole_org=True
)
SITES_LIST = Permission(name="sites.list", roles=_ALL, site=False)
SITES_CREATE = Permission(
    name="sites.create", roles=frozenset({Role.OWNER}), site=False, whole_org=True
)


def requires(permission: Permission) -> dict[str, Any]:
    """A route handler's ``opt`` declaring what it needs: ``@get("/", opt=requires(...))``."""
    return {"permission": permission}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> str:
    return _iso(datetime.now(UTC))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


_DURATION = re.compile(r"^(\d+)([dh])$")


def parse_expiry(text: str, now: datetime | None = None) -> str:
    """An expiry as stored (ISO 8601 UTC) from ``90d``, ``12h``, ``2027-01-01`` or a datetime.

    A date means its first moment (00:00 UTC).  Raises ``ValueError`` for anything else or
    for a moment already past.
    """
    now = now or datetime.now(UTC)
    text = text.strip()
    duration = _DURATION.match(text)
    if duration:
        amount = int(duration[1])
        moment = now + (timedelta(days=amount) if duration[2] == "d" else timedelta(hours=amount))
    else:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an expiry: {text!r} (use e.g. 90d, 12h or 2027-01-01)") from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
    if moment <= now:
        raise ValueError(f"the expiry {text!r} is not in the future")
    return _iso(moment)


def create_token(
    conn: apsw.Connection,
    name: str,
    *,
    org_id: int,
    role: Role | str,
    sites: Sequence[int] | None = None,
    expires_at: str | None = None,
) -> str:
    """Make an admin token of organisation ``org_id``; only its hash is stored, so show it once.

    ``sites`` limits it to those sites (each must belong to the organisation); None: all
    of them, including sites created later.
    """
    if not name.strip():
        raise ValueError("a token needs a name")
    role = Role(role)
    for site_id in sites or ():
        owner = site_owner(conn, site_id)
        if owner is None or owner[1] != org_id:
            raise ValueError(f"site {site_id} is not a site of this organisation")
    token = _PREFIX + secrets.token_urlsafe(32)
    insert_token(
        conn,
        name=name.strip(),
        token_hash=hash_token(token),
        created_at=_now(),
        org_id=org_id,
        role=role.value,
        expires_at=expires_at,
        site_ids=None if sites is None else list(sites),
    )
    return token


def verify_token(conn: apsw.Connection, token: str) -> Principal | None:
    """The principal of admin token ``token``, or None (unknown, expired, revoked); records use."""
    found = use_token(conn, hash_token(token), _now())
    if found is None:
        return None
    return Principal(
        token_id=found.id,
        name=found.name,
        org_id=found.org_id,
        role=Role(found.role),
        sites=found.sites,
    )


def _state(connection: ASGIConnection) -> dict[str, Any]:  # type: ignore[type-arg]
    scope: dict[str, Any] = connection.scope  # type: ignore[assignment]
    state: dict[str, Any] = scope.setdefault("state", {})
    return state


def _site_ref(params: Mapping[str, Any]) -> str | int | None:
    for name in _SITE_PARAMS:
        if name in params:
            value = params[name]
            return value if isinstance(value, int) else str(value)
    return None


async def admin_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    """Litestar guard: a live bearer token whose role and sites allow the handler's permission."""
    scheme, _sep, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException(detail="admin token required (Authorization: Bearer …)")
    db: Database = connection.app.state.db
    principal = await db.run(lambda conn: verify_token(conn, token.strip()))
    if principal is None:
        raise NotAuthorizedException(detail="invalid, expired or revoked admin token")
    permission = handler.opt.get("permission")
    ref = _site_ref(connection.path_params)
    if not isinstance(permission, Permission) or permission.site != (ref is not None):
        # Fail closed: an endpoint that declares nothing (or that names a site it does not
        # check) is refused to everyone until it says what it needs.
        log.error("refused %s: its handler declares no matching permission", connection.url.path)
        raise PermissionDeniedException(detail="this endpoint declares no permission")
    if ref is not None:
        owner = await db.run(lambda conn: site_owner(conn, ref))
        if owner is None or not principal.reaches(*owner):
            shown = ref if isinstance(ref, int) else repr(ref)
            raise NotFoundException(detail=f"no site {shown}")
        _state(connection)[_STATE_SITE] = owner[0]
    if principal.role not in permission.roles:
        raise PermissionDeniedException(
            detail=f"a {principal.role.value} token cannot do this ({permission.name})"
        )
    if permission.whole_org and principal.sites is not None:
        raise PermissionDeniedException(
            detail=f"a token limited to chosen sites cannot do this ({permission.name})"
        )
    _state(connection)[_STATE_PRINCIPAL] = principal


def principal_of(connection: ASGIConnection) -> Principal:  # type: ignore[type-arg]
    """The principal ``admin_guard`` resolved for this request (a dependency: ``principal``)."""
    found = _state(connection).get(_STATE_PRINCIPAL)
    if not isinstance(found, Principal):
        raise NotAuthorizedException(detail="admin token required (Authorization: Bearer …)")
    return found


def scoped_site_id(connection: ASGIConnection) -> int:  # type: ignore[type-arg]
    """The id of the site in the path, as checked by ``admin_guard`` (a dependency)."""
    found = _state(connection).get(_STATE_SITE)
    if not isinstance(found, int) or not isinstance(
        _state(connection).get(_STATE_PRINCIPAL), Principal
    ):
        raise NotAuthorizedException(detail="admin token required (Authorization: Bearer …)")
    return found
