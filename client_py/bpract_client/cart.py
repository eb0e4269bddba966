"""The visitor's cart, followed from GA4 ``add_to_cart`` / ``remove_from_cart`` events."""

from __future__ import annotations

from typing import Any

from .state import CART_LINES_KEEP, CartLine, VisitorState
from .values import as_int, as_num, as_str

__all__ = ["CART_ACTIONS", "apply_cart_event", "cart_items", "cart_summary"]

CART_ACTIONS = {"add_to_cart": "add", "remove_from_cart": "remove"}
_ITEMS_KEEP = 20


def cart_items(value: Any) -> list[dict[str, Any]]:
    """The GA4 ``items`` of an event as ``{id, name, price, qty}`` (malformed items dropped)."""
    if not isinstance(value, list):
        return []
    items = []
    for raw in value[:_ITEMS_KEEP]:
        if not isinstance(raw, dict):
            continue
        name = as_str(raw.get("name", raw.get("item_name")), 100) or ""
        item_id = as_str(raw.get("id", raw.get("item_id")), 100) or name
        if not item_id:
            continue
        qty = as_int(raw.get("qty", raw.get("quantity")))
        items.append(
            {
                "id": item_id,
                "name": name,
                "price": as_num(raw.get("price")) or 0.0,
                "qty": qty if qty is not None and qty > 0 else 1,
            }
        )
    return items


def apply_cart_event(state: VisitorState, action: str, items: list[dict[str, Any]]) -> None:
    """Add or remove quantities; a line at zero disappears."""
    sign = 1 if action == "add" else -1
    for item in items:
        line = state.cart.get(item["id"])
        if line is None:
            if sign < 0 or len(state.cart) >= CART_LINES_KEEP:
                continue
            line = state.cart[item["id"]] = CartLine(name=item["name"], price=item["price"], qty=0)
        line.qty += sign * item["qty"]
        if item["price"]:
            line.price = item["price"]
        if line.qty <= 0:
            del state.cart[item["id"]]


def cart_summary(state: VisitorState) -> dict[str, Any]:
    return {
        "items": sum(line.qty for line in state.cart.values()),
        "value": round(sum(line.price * line.qty for line in state.cart.values()), 2),
        "currency": state.currency,
    }
