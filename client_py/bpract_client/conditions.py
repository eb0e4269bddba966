"""Rule conditions (`when`) checked against what the engine knows now."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .rules import Conditions, glob_match
from .signals import PageView, cart_churn, visits
from .state import VisitorState

__all__ = ["Facts", "holds"]


@dataclass(frozen=True, slots=True)
class Facts:
    """A moment of one page view: the inputs of every condition."""

    now: int
    page: PageView
    state: VisitorState
    attentive_seconds: float
    idle_seconds: float
    device: str

    @property
    def session_number(self) -> int:
        return self.state.session.number if self.state.session else 1

    @property
    def utm_source(self) -> str | None:
        return self.state.session.utm_source if self.state.session else None

    @property
    def referrer(self) -> str | None:
        return self.state.session.referrer if self.state.session else None


def _any_glob(patterns: list[str], text: str | None) -> bool:
    return text is not None and any(glob_match(p, text) for p in patterns)


def _traits(expected: dict[str, Any], actual: dict[str, Any]) -> bool:
    return all(
        (key not in actual) if value is None else (actual.get(key) == value)
        for key, value in expected.items()
    )


_Check = Callable[[Any, Facts], bool]

_CHECKS: dict[str, _Check] = {
    "page": lambda v, f: _any_glob(v, f.page.location),
    "not_page": lambda v, f: not _any_glob(v, f.page.location),
    "attentive_seconds": lambda v, f: f.attentive_seconds >= v,
    "visits": lambda v, f: visits(f.state, v.page, v.days, f.now) >= v.count,
    "cart_churn": lambda v, f: cart_churn(f.state, v.minutes, f.now) >= v.changes,
    "scroll_percent": lambda v, f: f.page.scroll >= v,
    "exit_intent": lambda v, f: f.page.exit_intent == v,
    "idle_seconds": lambda v, f: f.idle_seconds >= v,
    "rage_clicks": lambda v, f: f.page.rage_bursts >= v,
    "visitor": lambda v, f: (f.session_number <= 1) == (v == "new"),
    "identified": lambda v, f: (f.state.user_id is not None) == v,
    "traits": lambda v, f: _traits(v, f.state.traits),
    "utm_source": lambda v, f: _any_glob([p.lower() for p in v], f.utm_source),
    "referrer": lambda v, f: _any_glob([p.lower() for p in v], f.referrer),
    "device": lambda v, f: f.device in v,
}


def holds(when: Conditions, facts: Facts) -> bool:
    """True when every condition present in ``when`` holds (a malformed one does not)."""
    for name, check in _CHECKS.items():
        expected = getattr(when, name)
        if expected is None:
            continue
        try:
            if not check(expected, facts):
                return False
        except (TypeError, ValueError, AttributeError):
            return False
    return True
