"""What Northwind sells: the Club plans and the products, with prices in euro cents."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

__all__ = ["PLANS", "PRODUCTS", "Billing", "Plan", "PlanId", "Product"]

PlanId = Literal["basic", "plus", "premium"]
Billing = Literal["monthly", "annual"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    id: PlanId
    name: str
    monthly_cents: int
    annual_cents: int
    """Billed once a year: twelve months at 20% off."""

    def price_cents(self, billing: Billing) -> int:
        return self.monthly_cents if billing == "monthly" else self.annual_cents


@dataclass(frozen=True, slots=True, kw_only=True)
class Product:
    item_id: str
    slug: str
    name: str
    price_cents: int
    sizes: tuple[str, ...]


def _plan(plan_id: PlanId, name: str, monthly_cents: int) -> Plan:
    return Plan(
        id=plan_id,
        name=name,
        monthly_cents=monthly_cents,
        annual_cents=monthly_cents * 12 * 80 // 100,
    )


PLANS: dict[str, Plan] = {
    p.id: p
    for p in (
        _plan("basic", "Club Basic", 900),
        _plan("plus", "Club Plus", 1900),
        _plan("premium", "Club Premium", 3900),
    )
}

_TOPS = ("XS", "S", "M", "L", "XL", "XXL")
_WAISTS = ("28", "30", "32", "34", "36", "38")

PRODUCTS: dict[str, Product] = {
    p.slug: p
    for p in (
        Product(
            item_id="NW-101",
            slug="harbour-linen-shirt",
            name="Harbour Linen Shirt",
            price_cents=5900,
            sizes=_TOPS,
        ),
        Product(
            item_id="NW-102",
            slug="fell-merino-crew",
            name="Fell Merino Crew",
            price_cents=8900,
            sizes=_TOPS,
        ),
        Product(
            item_id="NW-103",
            slug="dockside-canvas-jacket",
            name="Dockside Canvas Jacket",
            price_cents=14900,
            sizes=_TOPS,
        ),
        Product(
            item_id="NW-104",
            slug="everyday-stretch-chino",
            name="Everyday Stretch Chino",
            price_cents=6900,
            sizes=_WAISTS,
        ),
        Product(
            item_id="NW-105",
            slug="organic-pocket-tee",
            name="Organic Pocket Tee",
            price_cents=2500,
            sizes=_TOPS,
        ),
        Product(
            item_id="NW-106",
            slug="squall-rain-parka",
            name="Squall Rain Parka",
            price_cents=17900,
            sizes=_TOPS,
        ),
    )
}
