"""The demo's starting state: members, a shopper and their orders, dated from today."""

from __future__ import annotations

import datetime as dt
import sqlite3

from demo_site.catalog import PLANS, PRODUCTS
from demo_site.dates import add_months, next_weekday

__all__ = ["DEMO_USER_ID", "seed"]

DEMO_USER_ID = "u_1001"
"""The member who is always signed in on the demo pages."""

_ACCOUNTS = (
    # id, name, email, plan, billing, days since joining, days since last charge
    (DEMO_USER_ID, "Maya Lindqvist", "maya.lindqvist@example.com", "plus", "monthly", 410, 10),
    ("u_1002", "Tomás Ferreira", "tomas.ferreira@example.com", "basic", "annual", 200, 200),
    ("u_1003", "Inès Moreau", "ines.moreau@example.com", "premium", "monthly", 95, 3),
)

_CUSTOMERS = (
    # id, name, email, days since joining: shoppers without a membership
    ("u_1004", "Sam Okafor", "sam.okafor@example.com", 30),
)

_ORDERS = (
    # id, account, status, days since placed, delivery in (weekdays ahead; None when delivered),
    # city, [(product slug, size, quantity)]
    (
        "NW-10482",
        DEMO_USER_ID,
        "shipped",
        2,
        3,
        "Lyon",
        [("organic-pocket-tee", "M", 2), ("everyday-stretch-chino", "32", 1)],
    ),
    ("NW-10455", DEMO_USER_ID, "delivered", 24, None, "Lyon", [("fell-merino-crew", "M", 1)]),
    ("NW-10490", "u_1002", "processing", 1, 5, "Porto", [("dockside-canvas-jacket", "L", 1)]),
    (
        "NW-10491",
        "u_1003",
        "processing",
        0,
        4,
        "Bordeaux",
        [("squall-rain-parka", "S", 1), ("harbour-linen-shirt", "S", 1)],
    ),
)


def seed(conn: sqlite3.Connection, today: dt.date) -> None:
    for ident, name, email, plan, billing, joined, charged in _ACCOUNTS:
        last_charge = today - dt.timedelta(days=charged)
        months = 1 if billing == "monthly" else 12
        conn.execute(
            "INSERT INTO accounts VALUES (?, ?, ?, ?, ?, 'active', ?, ?, NULL, NULL, NULL)",
            (
                ident,
                name,
                email,
                plan,
                billing,
                (today - dt.timedelta(days=joined)).isoformat(),
                add_months(last_charge, months).isoformat(),
            ),
        )
        conn.execute(
            "INSERT INTO charges VALUES (?, ?, ?, 'EUR', ?, ?)",
            (
                f"ch_{ident[2:]}01",
                ident,
                PLANS[plan].price_cents(billing),  # type: ignore[arg-type]
                last_charge.isoformat(),
                f"{PLANS[plan].name}, {billing}",
            ),
        )
    for ident, name, email, joined in _CUSTOMERS:
        conn.execute(
            "INSERT INTO accounts VALUES (?, ?, ?, NULL, NULL, 'none', ?, NULL, NULL, NULL, NULL)",
            (ident, name, email, (today - dt.timedelta(days=joined)).isoformat()),
        )
    for ident, account, status, placed, weekdays_ahead, city, lines in _ORDERS:
        delivery = None if weekdays_ahead is None else next_weekday(today, weekdays_ahead)
        conn.execute(
            "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?)",
            (
                ident,
                account,
                status,
                (today - dt.timedelta(days=placed)).isoformat(),
                None if delivery is None else delivery.isoformat(),
                city,
            ),
        )
        for slug, size, quantity in lines:
            product = PRODUCTS[slug]
            conn.execute(
                "INSERT INTO order_items VALUES (?, ?, ?, ?, ?, ?)",
                (ident, product.item_id, product.name, size, quantity, product.price_cents),
            )
