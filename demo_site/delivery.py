"""Orders and their delivery: read them, and move a delivery to another weekday."""

from __future__ import annotations

import datetime as dt
import sqlite3

import msgspec

from demo_site.dates import is_weekday
from demo_site.errors import DemoApiError
from demo_site.schemas import Order, OrderItem, Reschedule

__all__ = ["RESCHEDULE_WINDOW_DAYS", "get_order", "list_orders", "reschedule"]

RESCHEDULE_WINDOW_DAYS = 14
"""A delivery can move to any weekday from tomorrow up to this many days ahead."""


def _order(conn: sqlite3.Connection, row: sqlite3.Row) -> Order:
    items = [
        msgspec.convert(dict(item), OrderItem)
        for item in conn.execute(
            "SELECT item_id, name, size, quantity, price_cents FROM order_items"
            " WHERE order_id = ? ORDER BY rowid",
            (row["id"],),
        )
    ]
    total = sum(item.price_cents * item.quantity for item in items)
    fields = {**dict(row), "items": items, "total_cents": total, "currency": "EUR"}
    return msgspec.convert(fields, Order, strict=False)


def get_order(conn: sqlite3.Connection, order_id: str, account_id: str | None = None) -> Order:
    """The order; with ``account_id``, only if it is that account's (else: not found)."""
    row = conn.execute("SELECT * FROM orders WHERE id = ?", (order_id,)).fetchone()
    if row is None or (account_id is not None and row["account_id"] != account_id):
        raise DemoApiError.not_found("order", order_id)
    return _order(conn, row)


def list_orders(conn: sqlite3.Connection, account_id: str) -> list[Order]:
    rows = conn.execute(
        "SELECT * FROM orders WHERE account_id = ? ORDER BY placed_on DESC, id DESC", (account_id,)
    ).fetchall()
    return [_order(conn, row) for row in rows]


def _check_date(day: dt.date, today: dt.date) -> None:
    last = today + dt.timedelta(days=RESCHEDULE_WINDOW_DAYS)
    if day <= today:
        raise DemoApiError(
            422, "date_not_future", "the new delivery date must be tomorrow or later"
        )
    if day > last:
        raise DemoApiError(
            422, "date_too_far", f"the new delivery date must be on or before {last.isoformat()}"
        )
    if not is_weekday(day):
        raise DemoApiError(422, "date_weekend", "deliveries run Monday to Friday only")


def reschedule(
    conn: sqlite3.Connection,
    order_id: str,
    request: Reschedule,
    today: dt.date,
    account_id: str | None = None,
) -> Order:
    """Move a delivery; with ``account_id``, only one of that account's orders."""
    order = get_order(conn, order_id, account_id)
    if order.status in ("delivered", "cancelled"):
        raise DemoApiError(
            409, "not_reschedulable", f"order {order_id} is {order.status} and cannot be moved"
        )
    _check_date(request.date, today)
    conn.execute(
        "UPDATE orders SET delivery_date = ? WHERE id = ?", (request.date.isoformat(), order_id)
    )
    return get_order(conn, order_id)
