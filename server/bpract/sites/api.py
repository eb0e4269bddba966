"""Admin REST API for sites: ``/api/sites`` (list, create, get, rotate the identity secret).

Every handler declares its permission (``opt=requires(...)``); ``admin_guard`` checks it
and the caller's organisation, role and sites.  An identity secret is returned only by
the two calls that make one: creating a site and rotating its secret.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import JSONBody

from bpract.di import from_state
from bpract.sites.auth import (
    SITE_READ,
    SITE_SECRET,
    SITES_CREATE,
    SITES_LIST,
    Principal,
    admin_guard,
    principal_of,
    requires,
    scoped_site_id,
)
from bpract.sites.store import (
    Site,
    SiteNotFoundError,
    create_site,
    get_site,
    list_sites,
    rotate_identity_secret,
)
from bpract.store import Database

__all__ = [
    "SiteController",
    "SiteCreate",
    "SiteCreated",
    "SiteOut",
    "admin_dependencies",
    "route_handlers",
    "site_id_from_path",
]

AnyRequest = Request[Any, Any, Any]


async def site_id_from_path(request: AnyRequest) -> int:
    """Dependency: the id of the site an ``/api/sites/{site_key}/…`` path names.

    ``admin_guard`` has found it and checked the caller may reach it (404 otherwise).
    """
    return scoped_site_id(request)


async def _principal(request: AnyRequest) -> Principal:
    return principal_of(request)


def admin_dependencies(*names: str, site_id: bool = True) -> dict[str, Provide]:
    """A controller's dependencies: ``principal``, ``site_id`` (unless the path has one of its
    own) and the named services."""
    provided = {**from_state(*names), "principal": Provide(_principal)}
    if site_id:
        provided["site_id"] = Provide(site_id_from_path)
    return provided


class SiteCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    allowed_origins: Annotated[list[str], msgspec.Meta(min_length=1, max_length=50)]


class SiteOut(msgspec.Struct, kw_only=True):
    """A site as listed: never its identity secret."""

    id: int
    public_key: str
    name: str
    allowed_origins: list[str]
    created_at: str

    @classmethod
    def of(cls, site: Site) -> SiteOut:
        return cls(
            id=site.id,
            public_key=site.public_key,
            name=site.name,
            allowed_origins=site.allowed_origins,
            created_at=site.created_at,
        )


class SiteCreated(SiteOut, kw_only=True):
    """A site just created: its identity secret is shown here, once."""

    identity_secret: str


class IdentitySecretOut(msgspec.Struct, kw_only=True):
    """A new identity secret, shown once; the previous one no longer verifies identities."""

    public_key: str
    identity_secret: str


class SiteController(Controller):
    path = "/api/sites"
    dependencies = admin_dependencies("db", site_id=False)
    guards = [admin_guard]  # noqa: RUF012 - Litestar reads it from the class
    tags = ["sites"]  # noqa: RUF012

    @get("/", opt=requires(SITES_LIST))
    async def list_sites(
        self, db: NamedDependency[Database], principal: NamedDependency[Principal]
    ) -> list[SiteOut]:
        """The sites the caller's token reaches."""
        sites = await db.run(lambda conn: list_sites(conn, org_id=principal.org_id))
        return [SiteOut.of(s) for s in sites if principal.reaches(s.id, s.org_id)]

    @post("/", opt=requires(SITES_CREATE))
    async def create_site(
        self,
        db: NamedDependency[Database],
        principal: NamedDependency[Principal],
        data: JSONBody[SiteCreate],
    ) -> SiteCreated:
        """Create a site of the caller's organisation; its identity secret is shown this once."""

        def create(conn: object) -> Site:
            return create_site(
                conn,  # type: ignore[arg-type]
                name=data.name,
                origins=data.allowed_origins,
                org_id=principal.org_id,
            )

        try:
            site = await db.transaction(create)
        except ValueError as exc:
            raise ValidationException(detail=str(exc)) from exc
        return SiteCreated(
            **msgspec.structs.asdict(SiteOut.of(site)), identity_secret=site.identity_secret
        )

    @get("/{site_id:int}", opt=requires(SITE_READ))
    async def get_site(self, request: AnyRequest, db: NamedDependency[Database]) -> SiteOut:
        """One site the caller's token reaches (by id)."""
        site_id = scoped_site_id(request)
        try:
            site = await db.run(lambda conn: get_site(conn, site_id))
        except SiteNotFoundError as exc:
            raise NotFoundException(detail=str(exc)) from exc
        return SiteOut.of(site)

    @post("/{site_key:str}/identity-secret", status_code=200, opt=requires(SITE_SECRET))
    async def rotate_secret(
        self, request: AnyRequest, db: NamedDependency[Database]
    ) -> IdentitySecretOut:
        """Replace the site's identity secret; the new one is shown this once."""
        site_id = scoped_site_id(request)

        def rotate(conn: object) -> IdentitySecretOut:
            secret = rotate_identity_secret(conn, site_id)  # type: ignore[arg-type]
            site = get_site(conn, site_id)  # type: ignore[arg-type]
            return IdentitySecretOut(public_key=site.public_key, identity_secret=secret)

        return await db.transaction(rotate)


route_handlers: list[Any] = [SiteController]
