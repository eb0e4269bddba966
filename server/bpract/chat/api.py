"""Admin REST API for a site's chat settings: ``/api/sites/{site_key}/chat-settings``.

A PUT body is a JSON object of the settings to change; an unknown setting or a value of
the wrong type is answered 400 with the setting named in ``field``.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, RawBody

from bpract.chat import site_settings
from bpract.chat.site_settings import ChatSettingsError, SiteChatSettings
from bpract.clock import now_ms
from bpract.sites.api import admin_dependencies
from bpract.sites.auth import RULES_WRITE, SITE_READ, admin_guard, requires
from bpract.store import Database

__all__ = ["ChatSettingsController", "route_handlers"]

AnyRequest = Request[Any, Any, Any]


class ErrorOut(msgspec.Struct, kw_only=True):
    status_code: int
    detail: str
    field: str
    """The setting at fault (``$``: the body as a whole)."""


class ChatSettingsOut(msgspec.Struct, kw_only=True):
    site: str
    handoff_on_failure: bool


def _error_response(_: AnyRequest, exc: Exception) -> Response[ErrorOut]:
    assert isinstance(exc, ChatSettingsError)
    return Response(ErrorOut(status_code=400, detail=exc.detail, field=exc.field), status_code=400)


def _out(site_key: str, settings: SiteChatSettings) -> ChatSettingsOut:
    return ChatSettingsOut(site=site_key, handoff_on_failure=settings.handoff_on_failure)


def _changes(body: bytes) -> Any:
    try:
        return msgspec.json.decode(body)
    except msgspec.DecodeError as exc:
        raise ChatSettingsError("$", "the body is not JSON") from exc


class ChatSettingsController(Controller):
    path = "/api/sites/{site_key:str}/chat-settings"
    guards = [admin_guard]  # noqa: RUF012 - Litestar reads it from the class
    tags = ["chat"]  # noqa: RUF012
    exception_handlers = {ChatSettingsError: _error_response}  # noqa: RUF012
    dependencies = admin_dependencies("db")

    @get("/", opt=requires(SITE_READ))
    async def get_settings(
        self, db: NamedDependency[Database], site_id: NamedDependency[int], site_key: FromPath[str]
    ) -> ChatSettingsOut:
        """The site's chat settings (defaults where none were set)."""
        return _out(site_key, await site_settings.load(db, site_id))

    @put("/", opt=requires(RULES_WRITE))
    async def put_settings(
        self,
        db: NamedDependency[Database],
        site_id: NamedDependency[int],
        site_key: FromPath[str],
        body: RawBody,
    ) -> ChatSettingsOut:
        """Change the settings named in the body; the others keep their values."""
        changed = site_settings.updated(await site_settings.load(db, site_id), _changes(body))
        await site_settings.save(db, site_id, changed, at_ms=now_ms())
        return _out(site_key, changed)


route_handlers: list[type[Controller]] = [ChatSettingsController]
