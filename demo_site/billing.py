"""Club membership operations: read an account, change plan, pause, cancel, refund."""

from __future__ import annotations

import datetime as dt
import secrets
import sqlite3

import msgspec

from demo_site.catalog import PLANS
from demo_site.dates import add_months
from demo_site.errors import DemoApiError
from demo_site.schemas import (
    Account,
    Cancellation,
    Charge,
    Pause,
    PlanChange,
    Refund,
    RefundRequest,
)

__all__ = ["cancel", "change_plan", "get_account", "pause", "refund"]

_LAST_CHARGE = """
SELECT c.id, c.amount_cents, c.currency, c.created, c.description,
       coalesce((SELECT sum(r.amount_cents) FROM refunds r WHERE r.charge_id = c.id), 0)
         AS refunded_cents
FROM charges c WHERE c.account_id = ? ORDER BY c.created DESC, c.id DESC LIMIT 1
"""


def _last_charge(conn: sqlite3.Connection, account_id: str) -> Charge | None:
    row = conn.execute(_LAST_CHARGE, (account_id,)).fetchone()
    return None if row is None else msgspec.convert(dict(row), Charge, strict=False)


def get_account(conn: sqlite3.Connection, account_id: str) -> Account:
    row = conn.execute("SELECT * FROM accounts WHERE id = ?", (account_id,)).fetchone()
    if row is None:
        raise DemoApiError.not_found("account", account_id)
    fields = dict(row)
    plan = PLANS.get(fields["plan"] or "")
    fields["price_cents"] = plan.price_cents(fields["billing"]) if plan else None
    fields["last_charge"] = _last_charge(conn, account_id)
    return msgspec.convert(fields, Account, strict=False)


def _update(conn: sqlite3.Connection, account_id: str, **values: str | None) -> None:
    assignments = ", ".join(f"{name} = ?" for name in values)
    conn.execute(f"UPDATE accounts SET {assignments} WHERE id = ?", (*values.values(), account_id))  # noqa: S608


def _require_membership(account: Account) -> None:
    if account.status == "cancelled":
        raise DemoApiError(409, "account_cancelled", f"account {account.id} is cancelled")
    if account.status == "none":
        raise DemoApiError(409, "no_membership", f"account {account.id} has no Club membership")


def change_plan(conn: sqlite3.Connection, account_id: str, change: PlanChange) -> Account:
    """Switch plan or billing now; the new price is charged from the next renewal."""
    account = get_account(conn, account_id)
    _require_membership(account)
    if (account.plan, account.billing) == (change.plan, change.billing):
        raise DemoApiError(
            409, "same_plan", f"account {account_id} is already on {change.plan}, {change.billing}"
        )
    _update(conn, account_id, plan=change.plan, billing=change.billing)
    return get_account(conn, account_id)


def pause(conn: sqlite3.Connection, account_id: str, request: Pause, today: dt.date) -> Account:
    """No charges while paused; the renewal date moves back by the pause."""
    account = get_account(conn, account_id)
    _require_membership(account)
    if account.status == "paused":
        raise DemoApiError(409, "already_paused", f"account {account_id} is already paused")
    renews_on = account.renews_on or today
    _update(
        conn,
        account_id,
        status="paused",
        paused_until=add_months(today, request.months).isoformat(),
        renews_on=add_months(renews_on, request.months).isoformat(),
    )
    return get_account(conn, account_id)


def cancel(conn: sqlite3.Connection, account_id: str, request: Cancellation) -> Account:
    """Stop renewal; benefits last until the end of the paid period (``ends_on``)."""
    account = get_account(conn, account_id)
    _require_membership(account)
    ends_on = account.renews_on.isoformat() if account.renews_on else None
    _update(
        conn,
        account_id,
        status="cancelled",
        ends_on=ends_on,
        renews_on=None,
        paused_until=None,
        cancel_reason=request.reason or None,
    )
    return get_account(conn, account_id)


def refund(
    conn: sqlite3.Connection, account_id: str, request: RefundRequest, today: dt.date
) -> Refund:
    """Refund part or all of the last charge; never more than what is left of it."""
    account = get_account(conn, account_id)
    charge = account.last_charge
    if charge is None:
        raise DemoApiError(409, "no_charge", f"account {account_id} has no charge to refund")
    left = charge.amount_cents - charge.refunded_cents
    if request.amount_cents > left:
        raise DemoApiError(
            422,
            "refund_exceeds_charge",
            f"at most {left} cents of charge {charge.id} can still be refunded",
        )
    refund_id = f"re_{secrets.token_hex(6)}"
    conn.execute(
        "INSERT INTO refunds VALUES (?, ?, ?, ?, ?, ?)",
        (refund_id, account_id, charge.id, request.amount_cents, request.reason, today.isoformat()),
    )
    return Refund(
        id=refund_id,
        account_id=account_id,
        charge_id=charge.id,
        amount_cents=request.amount_cents,
        currency=charge.currency,
        reason=request.reason,
        created=today,
    )
