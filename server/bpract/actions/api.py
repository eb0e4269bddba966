"""Admin REST API for declared actions: ``/api/sites/{site_key}/actions`` and its audit.

A PUT body is YAML or JSON text, validated like an actions file; invalid input
is answered 400 with every ``{path, message}`` found.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, put
from litestar.di import NamedDependency
from litestar.params import FromPath, QueryParameter, RawBody

from bpract.actions.errors import ActionsError, ActionsInvalidError, FieldError
from bpract.actions.service import ActionService
from bpract.actions.settings import ActionSettings
from bpract.actions.spec import check_base_url, load_actions
from bpract.actions.storage import StoredActions
from bpract.net import NetSettings
from bpract.settings import Settings
from bpract.sites.api import admin_dependencies
from bpract.sites.auth import ACTIONS_WRITE, SITE_READ, Principal, admin_guard, requires
from bpract.store import Database

__all__ = ["ActionsController", "route_handlers"]

AnyRequest = Request[Any, Any, Any]


class ErrorOut(msgspec.Struct, kw_only=True):
    status_code: int
    detail: str
    errors: list[FieldError]


class ActionsOut(msgspec.Struct, kw_only=True):
    site: str
    version: int
    """0 when the site declared no actions."""
    author: str
    created_at: str
    actions: dict[str, Any] | None
    """The validated action set (every field, defaults filled), or null."""
    source: str


class AuditOut(msgspec.Struct, kw_only=True):
    id: int
    conversation: str
    visitor: str
    action: str
    event: str
    reason: str
    pending: str
    """The pending action the event is about ('' when none was made)."""
    at: str


def _error_response(_: AnyRequest, exc: Exception) -> Response[ErrorOut]:
    assert isinstance(exc, ActionsError)
    errors = exc.errors if isinstance(exc, ActionsInvalidError) else []
    return Response(ErrorOut(status_code=400, detail=exc.detail, errors=errors), status_code=400)


def _out(site_key: str, stored: StoredActions | None) -> ActionsOut:
    if stored is None:
        return ActionsOut(
            site=site_key, version=0, author="", created_at="", actions=None, source=""
        )
    return ActionsOut(
        site=site_key,
        version=stored.version,
        author=stored.author,
        created_at=stored.created_at,
        actions=stored.body,
        source=stored.source,
    )


def _text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        error = FieldError(path="$", message="the body is not UTF-8 text")
        raise ActionsInvalidError([error]) from exc


class ActionsController(Controller):
    path = "/api/sites/{site_key:str}/actions"
    guards = [admin_guard]  # noqa: RUF012 - Litestar reads it from the class
    tags = ["actions"]  # noqa: RUF012
    exception_handlers = {ActionsError: _error_response}  # noqa: RUF012
    dependencies = admin_dependencies("db", "settings")

    @get("/", opt=requires(SITE_READ))
    async def get_actions(
        self, db: NamedDependency[Database], site_id: NamedDependency[int], site_key: FromPath[str]
    ) -> ActionsOut:
        """The current action set and its version."""
        return _out(site_key, await ActionService(db).current(site_id))

    @put("/", opt=requires(ACTIONS_WRITE))
    async def put_actions(
        self,
        *,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        site_id: NamedDependency[int],
        principal: NamedDependency[Principal],
        site_key: FromPath[str],
        body: RawBody,
    ) -> ActionsOut:
        """Replace the site's actions with a YAML or JSON document: a new version."""
        source = _text(body)
        actions = load_actions(source, max_actions=settings.of(ActionSettings).max_actions)
        await check_base_url(actions, settings.of(NetSettings))
        service = ActionService(db)
        await service.save(site_id, actions, source=source, author=principal.name)
        return _out(site_key, await service.current(site_id))

    @get("/audit", opt=requires(SITE_READ))
    async def audit(
        self,
        *,
        db: NamedDependency[Database],
        settings: NamedDependency[Settings],
        site_id: NamedDependency[int],
        site_key: FromPath[str],
        conversation: Annotated[str | None, QueryParameter(max_length=200)] = None,
        visitor: Annotated[str | None, QueryParameter(max_length=200)] = None,
    ) -> list[AuditOut]:
        """Proposals, confirmations, declines, expiries, refusals and results, oldest first."""
        events = await ActionService(db).audit(
            site_id,
            conversation=conversation,
            visitor=visitor,
            limit=settings.of(ActionSettings).audit_page,
        )
        return [
            AuditOut(
                id=e.id,
                conversation=e.conversation,
                visitor=e.visitor,
                action=e.action,
                event=e.event,
                reason=e.reason,
                pending=e.pending,
                at=e.at,
            )
            for e in events
        ]


route_handlers: list[type[Controller]] = [ActionsController]
