"""Visitor state that survives page loads, with a tolerant JSON round trip."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .values import Scalar, as_int, as_num, as_str, scalar_map

__all__ = [
    "CART_KEEP",
    "CART_LINES_KEEP",
    "CART_WINDOW_MS",
    "VIEWS_KEEP",
    "VIEWS_WINDOW_MS",
    "CartLine",
    "Session",
    "VisitorState",
]

DAY_MS = 86_400_000
VIEWS_WINDOW_MS = 90 * DAY_MS  # the longest `visits.days` a rule may use
VIEWS_KEEP = 500
CART_WINDOW_MS = DAY_MS  # the longest `cart_churn.minutes` a rule may use
CART_KEEP = 200
CART_LINES_KEEP = 50


def _int(value: Any, default: int = 0) -> int:
    number = as_int(value)
    return default if number is None else number


@dataclass(slots=True)
class Session:
    """One visit: ends after 30 minutes without activity."""

    id: str
    number: int
    started: int
    last_activity: int
    utm_source: str | None = None
    referrer: str | None = None  # host of the first external referrer

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "number": self.number,
            "started": self.started,
            "last_activity": self.last_activity,
            "utm_source": self.utm_source,
            "referrer": self.referrer,
        }

    @classmethod
    def from_dict(cls, data: Any) -> Session | None:
        if not isinstance(data, dict):
            return None
        sid = as_str(data.get("id"))
        if not sid:
            return None
        return cls(
            id=sid,
            number=max(1, _int(data.get("number"), 1)),
            started=_int(data.get("started")),
            last_activity=_int(data.get("last_activity")),
            utm_source=as_str(data.get("utm_source")),
            referrer=as_str(data.get("referrer")),
        )


@dataclass(slots=True)
class CartLine:
    name: str
    price: float
    qty: int


@dataclass(slots=True)
class VisitorState:
    """What the engine remembers about a visitor between page loads."""

    first_seen: int | None = None
    sessions: int = 0
    session: Session | None = None
    user_id: str | None = None
    traits: dict[str, Scalar] = field(default_factory=dict)
    views: list[tuple[int, str]] = field(default_factory=list)  # (at, path?query)
    cart_changes: list[tuple[int, str]] = field(default_factory=list)  # (at, add|remove)
    cart: dict[str, CartLine] = field(default_factory=dict)
    currency: str | None = None

    def add_view(self, at: int, location: str) -> None:
        self.views.append((at, location))
        self.prune(at)

    def add_cart_change(self, at: int, action: str) -> None:
        self.cart_changes.append((at, action))
        self.prune(at)

    def prune(self, now: int) -> None:
        """Forget what no rule can look at any more, and bound the lists."""
        self.views = [v for v in self.views if v[0] >= now - VIEWS_WINDOW_MS][-VIEWS_KEEP:]
        self.cart_changes = [c for c in self.cart_changes if c[0] >= now - CART_WINDOW_MS][
            -CART_KEEP:
        ]

    def to_dict(self) -> dict[str, Any]:
        return {
            "v": 1,
            "first_seen": self.first_seen,
            "sessions": self.sessions,
            "session": self.session.to_dict() if self.session else None,
            "user_id": self.user_id,
            "traits": dict(self.traits),
            "views": [[at, loc] for at, loc in self.views],
            "cart_changes": [[at, action] for at, action in self.cart_changes],
            "cart": {
                k: {"name": line.name, "price": line.price, "qty": line.qty}
                for k, line in self.cart.items()
            },
            "currency": self.currency,
        }

    @classmethod
    def from_dict(cls, data: Any) -> VisitorState:
        """Rebuild from :meth:`to_dict` output; anything unreadable starts fresh."""
        if not isinstance(data, dict):
            return cls()
        first_seen = data.get("first_seen")
        return cls(
            first_seen=_int(first_seen) if _int(first_seen, -1) >= 0 else None,
            sessions=max(0, _int(data.get("sessions"))),
            session=Session.from_dict(data.get("session")),
            user_id=as_str(data.get("user_id")),
            traits=scalar_map(data.get("traits")),
            views=_pairs(data.get("views"), VIEWS_KEEP),
            cart_changes=[
                p for p in _pairs(data.get("cart_changes"), CART_KEEP) if p[1] in ("add", "remove")
            ],
            cart=_cart(data.get("cart")),
            currency=as_str(data.get("currency")),
        )


def _pairs(value: Any, keep: int) -> list[tuple[int, str]]:
    if not isinstance(value, list):
        return []
    pairs = [
        (_int(p[0]), p[1])
        for p in value
        if isinstance(p, list) and len(p) == 2 and _int(p[0], -1) >= 0 and isinstance(p[1], str)
    ]
    return pairs[-keep:]


def _cart(value: Any) -> dict[str, CartLine]:
    if not isinstance(value, dict):
        return {}
    lines = {
        k: CartLine(
            name=as_str(v.get("name")) or "",
            price=as_num(v.get("price")) or 0.0,
            qty=_int(v.get("qty")),
        )
        for k, v in value.items()
        if isinstance(k, str) and isinstance(v, dict) and _int(v.get("qty")) > 0
    }
    return dict(list(lines.items())[:CART_LINES_KEEP])
