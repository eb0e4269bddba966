"""Admin REST API for sites: ``/api/sites`` (list, create, get)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException, ValidationException
from litestar.params import FromPath, JSONBody

from bpract.di import from_state
from bpract.sites.auth import admin_guard
from bpract.sites.store import (
    Site,
    SiteNotFoundError,
    create_site,
    get_site,
    list_sites,
    site_id_for_key,
)
from bpract.store import Database

__all__ = [
    "SiteController",
    "SiteCreate",
    "SiteOut",
    "route_handlers",
    "site_id_from_path",
    "site_id_or_404",
]


async def site_id_from_path(db: NamedDependency[Database], site_key: FromPath[str]) -> int:
    """Dependency: the id of the site an ``/api/sites/{site_key}/…`` path names; 404 if none."""
    return await site_id_or_404(db, site_key)


async def site_id_or_404(db: Database, site_key: str) -> int:
    """The id of the site named in an ``/api/sites/{site_key}/…`` path; 404 if none."""
    site_id = await db.run(lambda conn: site_id_for_key(conn, site_key))
    if site_id is None:
        raise NotFoundException(detail=f"no site {site_key!r}")
    return site_id


class SiteCreate(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    allowed_origins: Annotated[list[str], msgspec.Meta(min_length=1, max_length=50)]


class SiteOut(msgspec.Struct, kw_only=True):
    id: int
    public_key: str
    name: str
    allowed_origins: list[str]
    identity_secret: str
    created_at: str

    @classmethod
    def of(cls, site: Site) -> SiteOut:
        return cls(
            id=site.id,
            public_key=site.public_key,
            name=site.name,
            allowed_origins=site.allowed_origins,
            identity_secret=site.identity_secret,
            created_at=site.created_at,
        )


class SiteController(Controller):
    path = "/api/sites"
    dependencies = from_state("db")
    guards = [admin_guard]  # noqa: RUF012 - Litestar reads it from the class
    tags = ["sites"]  # noqa: RUF012

    @get("/")
    async def list_sites(self, db: NamedDependency[Database]) -> list[SiteOut]:
        sites = await db.run(list_sites)
        return [SiteOut.of(s) for s in sites]

    @post("/")
    async def create_site(
        self, db: NamedDependency[Database], data: JSONBody[SiteCreate]
    ) -> SiteOut:
        def create(conn: object) -> Site:
            return create_site(conn, name=data.name, origins=data.allowed_origins)  # type: ignore[arg-type]

        try:
            site = await db.transaction(create)
        except ValueError as exc:
            raise ValidationException(detail=str(exc)) from exc
        return SiteOut.of(site)

    @get("/{site_id:int}")
    async def get_site(self, db: NamedDependency[Database], site_id: FromPath[int]) -> SiteOut:
        try:
            site = await db.run(lambda conn: get_site(conn, site_id))
        except SiteNotFoundError as exc:
            raise NotFoundException(detail=str(exc)) from exc
        return SiteOut.of(site)


route_handlers: list[Any] = [SiteController]
