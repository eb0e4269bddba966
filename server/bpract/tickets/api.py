"""Admin REST API for a site's ticket settings: ``/api/sites/{site_key}/ticket-settings``.

A PUT body is a JSON object of the settings to change (``webhook_url``, ``hours``,
``rotate_secret``); an unknown setting or a bad value is answered 400 with the setting
named in ``field``.  The signing secret is returned only by the PUT that made it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, RawBody

from bpract.sites.api import admin_dependencies
from bpract.sites.auth import ACTIONS_WRITE, SITE_READ, admin_guard, requires
from bpract.tickets.errors import TicketSettingsError
from bpract.tickets.service import SiteTickets, TicketService

__all__ = ["TicketSettingsController", "route_handlers"]

AnyRequest = Request[Any, Any, Any]


class ErrorOut(msgspec.Struct, kw_only=True):
    status_code: int
    detail: str
    field: str
    """The setting at fault (``$``: the body as a whole)."""


class HoursOut(msgspec.Struct, kw_only=True):
    days: list[str]
    start: str
    end: str
    tz: str


class TicketSettingsOut(msgspec.Struct, kw_only=True):
    site: str
    webhook_url: str
    """'' when the site has no webhook (tickets are only listed)."""
    secret_set: bool
    hours: HoursOut | None
    """null: always open."""
    secret: str | None = None
    """The new signing secret, in the answer of the PUT that made it only."""


def _error_response(_: AnyRequest, exc: Exception) -> Response[ErrorOut]:
    assert isinstance(exc, TicketSettingsError)
    return Response(ErrorOut(status_code=400, detail=exc.detail, field=exc.field), status_code=400)


def _out(site_key: str, s: SiteTickets, secret: str | None = None) -> TicketSettingsOut:
    hours = None if s.hours is None else HoursOut(**dataclasses.asdict(s.hours))
    return TicketSettingsOut(
        site=site_key, webhook_url=s.webhook_url, secret_set=s.secret_set, hours=hours,
        secret=secret,
    )  # fmt: skip


class TicketSettingsController(Controller):
    path = "/api/sites/{site_key:str}/ticket-settings"
    guards = [admin_guard]  # noqa: RUF012 - Litestar reads it from the class
    tags = ["tickets"]  # noqa: RUF012
    exception_handlers = {TicketSettingsError: _error_response}  # noqa: RUF012
    dependencies = admin_dependencies("tickets")

    @get("/", opt=requires(SITE_READ))
    async def get_settings(
        self,
        tickets: NamedDependency[TicketService],
        site_id: NamedDependency[int],
        site_key: FromPath[str],
    ) -> TicketSettingsOut:
        """The site's webhook, whether a signing secret is set, and its business hours."""
        return _out(site_key, await tickets.load(site_id))

    @put("/", opt=requires(ACTIONS_WRITE))
    async def put_settings(
        self,
        tickets: NamedDependency[TicketService],
        site_id: NamedDependency[int],
        site_key: FromPath[str],
        body: RawBody,
    ) -> TicketSettingsOut:
        """Change the settings named in the body; a new secret is shown in this answer once."""
        try:
            changes = msgspec.json.decode(body)
        except msgspec.DecodeError as exc:
            raise TicketSettingsError("$", "the body is not JSON") from exc
        changed, secret = await tickets.change(site_id, changes)
        return _out(site_key, changed, secret)


route_handlers: list[type[Controller]] = [TicketSettingsController]
