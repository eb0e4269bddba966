"""Request and response bodies of the demo API (msgspec structs)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec

from demo_site.catalog import Billing, PlanId

__all__ = [
    "Account",
    "Cancellation",
    "Charge",
    "ErrorBody",
    "Identity",
    "Order",
    "OrderItem",
    "Pause",
    "PlanChange",
    "Refund",
    "RefundRequest",
    "Reschedule",
]

AccountStatus = Literal["none", "active", "paused", "cancelled"]
"""``none``: a customer account without a Club membership."""
OrderStatus = Literal["processing", "shipped", "delivered", "cancelled"]
Reason = Annotated[str, msgspec.Meta(max_length=500)]


class Charge(msgspec.Struct, kw_only=True):
    id: str
    amount_cents: int
    refunded_cents: int
    currency: str
    created: dt.date
    description: str


class Account(msgspec.Struct, kw_only=True):
    id: str
    name: str
    email: str
    plan: PlanId | None
    billing: Billing | None
    status: AccountStatus
    member_since: dt.date
    renews_on: dt.date | None
    ends_on: dt.date | None
    paused_until: dt.date | None
    cancel_reason: str | None
    price_cents: int | None
    last_charge: Charge | None


class OrderItem(msgspec.Struct, kw_only=True):
    item_id: str
    name: str
    size: str
    quantity: int
    price_cents: int


class Order(msgspec.Struct, kw_only=True):
    id: str
    account_id: str
    status: OrderStatus
    placed_on: dt.date
    delivery_date: dt.date | None
    total_cents: int
    currency: str
    city: str
    items: list[OrderItem]


class Refund(msgspec.Struct, kw_only=True):
    id: str
    account_id: str
    charge_id: str
    amount_cents: int
    currency: str
    reason: str
    created: dt.date


class PlanChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    plan: PlanId
    billing: Billing = "monthly"


class Cancellation(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    reason: Reason = ""


class Pause(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    months: Annotated[int, msgspec.Meta(ge=1, le=3)] = 1


class RefundRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    amount_cents: Annotated[int, msgspec.Meta(gt=0)]
    reason: Reason = ""


class Reschedule(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    date: dt.date


class Identity(msgspec.Struct, kw_only=True):
    """What the account page passes to ``bpract('identify', user_id, traits, user_hash)``."""

    user_id: str
    traits: dict[str, str]
    user_hash: str


class ErrorBody(msgspec.Struct, kw_only=True):
    error: str
    detail: str
