"""The business API other systems call with the demo bearer key: accounts and orders."""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard

from demo_site import billing, delivery
from demo_site.errors import DemoApiError
from demo_site.responses import IdempotencyKey, idempotent
from demo_site.schemas import (
    Account,
    Cancellation,
    Order,
    Pause,
    PlanChange,
    RefundRequest,
    Reschedule,
)
from demo_site.store import Store

__all__ = ["bearer_guard", "business_router"]


def bearer_guard(api_key: str) -> Guard:
    """Refuses a request unless it carries ``Authorization: Bearer <api_key>``."""
    expected = f"Bearer {api_key}".encode()

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        sent = connection.headers.get("authorization", "").encode()
        if not hmac.compare_digest(sent, expected):
            raise DemoApiError(401, "unauthorized", "send Authorization: Bearer <demo API key>")

    return guard


@get("/accounts/{account_id:str}", sync_to_thread=True)
def read_account(store: Store, account_id: str) -> Account:
    with store.transaction() as conn:
        return billing.get_account(conn, account_id)


@get("/accounts/{account_id:str}/orders", sync_to_thread=True)
def read_account_orders(store: Store, account_id: str) -> list[Order]:
    with store.transaction() as conn:
        billing.get_account(conn, account_id)
        return delivery.list_orders(conn, account_id)


@post("/accounts/{account_id:str}/plan", sync_to_thread=True)
def change_plan(
    store: Store,
    request: Request[Any, Any, Any],
    account_id: str,
    data: PlanChange,
    idempotency_key: IdempotencyKey = None,
) -> Response[bytes]:
    return idempotent(
        store,
        request,
        idempotency_key,
        data,
        lambda conn: billing.change_plan(conn, account_id, data),
    )


@post("/accounts/{account_id:str}/pause", sync_to_thread=True)
def pause_account(
    store: Store,
    request: Request[Any, Any, Any],
    account_id: str,
    data: Pause,
    idempotency_key: IdempotencyKey = None,
) -> Response[bytes]:
    return idempotent(
        store,
        request,
        idempotency_key,
        data,
        lambda conn: billing.pause(conn, account_id, data, store.today()),
    )


@post("/accounts/{account_id:str}/cancel", sync_to_thread=True)
def cancel_account(
    store: Store,
    request: Request[Any, Any, Any],
    account_id: str,
    data: Cancellation,
    idempotency_key: IdempotencyKey = None,
) -> Response[bytes]:
    return idempotent(
        store,
        request,
        idempotency_key,
        data,
        lambda conn: billing.cancel(conn, account_id, data),
    )


@post("/accounts/{account_id:str}/refunds", sync_to_thread=True)
def refund_account(
    store: Store,
    request: Request[Any, Any, Any],
    account_id: str,
    data: RefundRequest,
    idempotency_key: IdempotencyKey = None,
) -> Response[bytes]:
    return idempotent(
        store,
        request,
        idempotency_key,
        data,
        lambda conn: billing.refund(conn, account_id, data, store.today()),
    )


@get("/orders/{order_id:str}", sync_to_thread=True)
def read_order(store: Store, order_id: str) -> Order:
    with store.transaction() as conn:
        return delivery.get_order(conn, order_id)


@post("/orders/{order_id:str}/reschedule", sync_to_thread=True)
def reschedule_order(
    store: Store,
    request: Request[Any, Any, Any],
    order_id: str,
    data: Reschedule,
    idempotency_key: IdempotencyKey = None,
) -> Response[bytes]:
    return idempotent(
        store,
        request,
        idempotency_key,
        data,
        lambda conn: delivery.reschedule(conn, order_id, data, store.today()),
    )


@post("/accounts/{account_id:str}/orders/{order_id:str}/reschedule", sync_to_thread=True)
def reschedule_account_order(  # noqa: PLR0917 - Litestar injects each by name
    store: Store,
    request: Request[Any, Any, Any],
    account_id: str,
    order_id: str,
    data: Reschedule,
    idempotency_key: IdempotencyKey = None,
) -> Response[bytes]:
    """Move the delivery of one of the account's own orders (another's: not found)."""
    return idempotent(
        store,
        request,
        idempotency_key,
        data,
        lambda conn: delivery.reschedule(conn, order_id, data, store.today(), account_id),
    )


def business_router(api_key: str) -> Router:
    return Router(
        path="/api",
        guards=[bearer_guard(api_key)],
        route_handlers=[
            read_account,
            read_account_orders,
            change_plan,
            pause_account,
            cancel_account,
            refund_account,
            read_order,
            reschedule_order,
            reschedule_account_order,
        ],
    )
