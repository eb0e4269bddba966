"""Shared pieces of the demo API's HTTP face: the idempotent write and the error response."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Annotated, Any

import msgspec
from litestar import MediaType, Request, Response
from litestar.params import Parameter

from demo_site.errors import DemoApiError
from demo_site.idempotency import fingerprint, run_once
from demo_site.schemas import ErrorBody
from demo_site.store import Store

__all__ = ["IdempotencyKey", "error_response", "idempotent"]

IdempotencyKey = Annotated[
    str | None, Parameter(header="Idempotency-Key", required=False, max_length=255)
]


def idempotent(
    store: Store,
    request: Request[Any, Any, Any],
    key: str | None,
    data: msgspec.Struct,
    operation: Callable[[sqlite3.Connection], object],
) -> Response[bytes]:
    outcome = run_once(store, key, fingerprint(request.method, request.url.path, data), operation)
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else {}
    return Response(
        outcome.body, status_code=outcome.status, media_type=MediaType.JSON, headers=headers
    )


def error_response(_: Request[Any, Any, Any], error: DemoApiError) -> Response[bytes]:
    headers = {"WWW-Authenticate": 'Bearer realm="northwind"'} if error.status == 401 else {}
    body = msgspec.json.encode(ErrorBody(error=error.code, detail=error.detail))
    return Response(body, status_code=error.status, media_type=MediaType.JSON, headers=headers)
