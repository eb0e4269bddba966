"""The signed-in visitor's own endpoints, called by the demo pages (no bearer key)."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from litestar import Request, Response, Router, get, post

from demo_site import billing, delivery
from demo_site.responses import IdempotencyKey, idempotent
from demo_site.schemas import Account, Cancellation, Identity, Order, Pause
from demo_site.seed import DEMO_USER_ID
from demo_site.settings import DemoSettings
from demo_site.store import Store

__all__ = ["identity_for", "me_router", "user_hash"]


def user_hash(secret: str, user_id: str) -> str:
    """Hex HMAC-SHA256 of the user id: proves to BPract that this site vouches for the id."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def identity_for(account: Account, secret: str) -> Identity:
    traits = {
        "name": account.name,
        "email": account.email,
        "status": account.status,
        "member_since": account.member_since.isoformat(),
    }
    # A cancelled member is no longer a customer: no plan trait.
    if account.plan and account.billing and account.status != "cancelled":
        traits |= {"plan": account.plan, "billing": account.billing}
    return Identity(user_id=account.id, traits=traits, user_hash=user_hash(secret, account.id))


@get("/identity", sync_to_thread=True)
def read_identity(store: Store, settings: DemoSettings) -> Identity:
    with store.transaction() as conn:
        account = billing.get_account(conn, DEMO_USER_ID)
    return identity_for(account, settings.identity_secret)


@get("/account", sync_to_thread=True)
def read_my_account(store: Store) -> Account:
    with store.transaction() as conn:
        return billing.get_account(conn, DEMO_USER_ID)


@get("/orders", sync_to_thread=True)
def read_my_orders(store: Store) -> list[Order]:
    with store.transaction() as conn:
        return delivery.list_orders(conn, DEMO_USER_ID)


@post("/pause", sync_to_thread=True)
def pause_mine(
    store: Store,
    request: Request[Any, Any, Any],
    data: Pause,
    idempotency_key: IdempotencyKey = None,
) -> Response[bytes]:
    return idempotent(
        store,
        request,
        idempotency_key,
        data,
        lambda conn: billing.pause(conn, DEMO_USER_ID, data, store.today()),
    )


@post("/cancel", sync_to_thread=True)
def cancel_mine(
    store: Store,
    request: Request[Any, Any, Any],
    data: Cancellation,
    idempotency_key: IdempotencyKey = None,
) -> Response[bytes]:
    return idempotent(
        store,
        request,
        idempotency_key,
        data,
        lambda conn: billing.cancel(conn, DEMO_USER_ID, data),
    )


def me_router() -> Router:
    return Router(
        path="/api/me",
        route_handlers=[read_identity, read_my_account, read_my_orders, pause_mine, cancel_mine],
    )
