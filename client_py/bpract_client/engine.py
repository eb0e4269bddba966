"""The behaviour engine: raw events in, signal and fire frames out. Pure logic, no I/O."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from .cart import CART_ACTIONS, apply_cart_event, cart_items, cart_summary
from .conditions import Facts, holds
from .rules import EngineRuleset, Trigger
from .session import location_of, new_session_id, touch_session
from .signals import IDLE_SIGNAL_SECONDS, Attention, PageView, cart_churn, visits
from .state import VisitorState
from .values import Scalar, as_bool, as_int, as_num, as_str, scalar_map

__all__ = ["Engine"]

# Events that show a person is there: they extend the session and the attention window.
_ACTIVITY = frozenset({"page", "act", "click", "scroll", "ecom", "track", "identify", "message"})
_JOURNEY_PAGES = 5
_URL_CHARS = 2048

_Handler = Callable[[dict[str, Any], int], None]


class Engine:
    """Sessionizes raw events, computes signals and evaluates the trigger rules.

    Feed it with :meth:`handle` and :meth:`tick`; collect frames with :meth:`drain`.
    """

    def __init__(
        self,
        *,
        ruleset: EngineRuleset,
        state: dict[str, Any] | None,
        device: str,
        time_scale: float = 1.0,
        new_id: Callable[[], str] = new_session_id,
    ) -> None:
        self._state = VisitorState.from_dict(state)
        self._device = device
        self._new_id = new_id
        self._now = 0
        self._attention: Attention | None = None
        self._page: PageView | None = None
        self._chat_open = False
        self._field_focus = False
        self._out: list[dict[str, Any]] = []
        self.time_scale = time_scale
        self.set_ruleset(ruleset)
        self._handlers: dict[str, _Handler] = {
            "page": self._on_page,
            "vis": self._on_vis,
            "focus": self._on_focus,
            "scroll": self._on_scroll,
            "click": self._on_click,
            "exit": self._on_exit,
            "ecom": self._on_ecom,
            "track": self._on_track,
            "identify": self._on_identify,
            "ui": self._on_ui,
        }

    # -- public seams -------------------------------------------------------

    @property
    def time_scale(self) -> float:
        return self._time_scale

    @time_scale.setter
    def time_scale(self, value: float) -> None:
        number = as_num(value)
        self._time_scale = number if number is not None and number > 0 else 1.0

    @property
    def ruleset(self) -> EngineRuleset:
        return self._ruleset

    @property
    def session_id(self) -> str | None:
        return self._state.session.id if self._state.session else None

    @property
    def page(self) -> PageView | None:
        return self._page

    @property
    def identified(self) -> bool:
        return self._state.user_id is not None

    def set_ruleset(self, ruleset: EngineRuleset) -> None:
        self._ruleset = ruleset
        # Stable sort: equal priorities keep the order they are listed in.
        self._ordered: list[Trigger] = sorted(ruleset.rules, key=lambda r: -r.priority)
        self._after(self._now)

    def set_identity(self, user_id: str, traits: dict[str, Any]) -> None:
        if user_id != self._state.user_id:
            self._state.traits = {}
        self._state.user_id = user_id
        self._state.traits.update(scalar_map(traits))

    def handle(self, event: dict[str, Any]) -> None:
        """One raw event (docs/protocol.md); unknown kinds and bad fields are ignored."""
        if not isinstance(cast(object, event), dict):
            return  # messages from the page may be any JSON
        kind = event.get("k")
        handler = self._handlers.get(kind) if isinstance(kind, str) else None
        if handler is None and kind not in _ACTIVITY:
            return
        at = as_int(event.get("at"))
        at = self._now if at is None else max(at, self._now)
        self._advance(at)
        if kind in _ACTIVITY:
            self._activity(at, touch_session=kind != "page")
        if handler is not None:
            handler(event, at)
        self._after(at)

    def tick(self, now_ms: int) -> None:
        """Let time pass: dwell and idle grow, rules that depend on them may fire."""
        if self._page is None:
            return  # before the first page view, buffered events still carry earlier times
        self._advance(max(now_ms, self._now))
        self._after(self._now)

    def drain(self) -> list[dict[str, Any]]:
        out, self._out = self._out, []
        return out

    def snapshot(self) -> dict[str, Any]:
        return self._state.to_dict()

    # -- time and attention -------------------------------------------------

    def _advance(self, at: int) -> None:
        if self._attention is None:
            self._attention = Attention(last_activity=at, visible_since=at)
        if self._page is not None:
            self._page.advance(at, self._attention)
        self._now = max(self._now, at)

    def _activity(self, at: int, *, touch_session: bool) -> None:
        if self._attention is not None:
            self._attention.activity(at)
        if touch_session and self._page is not None:
            self._touch(at, self._page.url, self._page.referrer)

    def _touch(self, at: int, url: str, referrer: str) -> None:
        touch_session(self._state, at, url=url, referrer=referrer, new_id=self._new_id)

    def _seconds(self, ms: int) -> float:
        return ms / 1000 * self._time_scale

    def _after(self, at: int) -> None:
        page, attention = self._page, self._attention
        if page is None or attention is None:
            return
        for seconds in page.new_dwell_milestones(self._seconds(page.attentive_ms)):
            self._signal(at, "dwell", {"path": page.path, "seconds": seconds})
        idle = self._seconds(attention.idle_ms(at))
        if idle >= IDLE_SIGNAL_SECONDS and not attention.idle_reported:
            attention.idle_reported = True
            self._signal(at, "idle", {"path": page.path, "seconds": IDLE_SIGNAL_SECONDS})
        self._evaluate(page, attention)

    # -- rules --------------------------------------------------------------

    def _suppressed(self) -> bool:
        policy = self._ruleset.policy
        return (self._chat_open and policy.suppress_while_chat_open) or (
            self._field_focus and policy.suppress_while_typing
        )

    def _evaluate(self, page: PageView, attention: Attention) -> None:
        if self._suppressed():
            return  # what still holds when suppression lifts fires then
        facts = Facts(
            now=self._now,
            page=page,
            state=self._state,
            attentive_seconds=self._seconds(page.attentive_ms),
            idle_seconds=self._seconds(attention.idle_ms(self._now)),
            device=self._device,
        )
        for rule in self._ordered:
            if rule.id not in page.fired and holds(rule.when, facts):
                page.fired.add(rule.id)
                self._fire(rule, facts)

    def _fire(self, rule: Trigger, facts: Facts) -> None:
        self._out.append(
            {
                "t": "fire",
                "at": self._now,
                "session": self._session(),
                "rule": rule.id,
                "rule_version": self._ruleset.version,
                "context": self._context(rule, facts),
            }
        )

    def _context(self, rule: Trigger, facts: Facts) -> dict[str, Any]:
        """A compact journey: where the visitor is and the signals that mattered."""
        page, state = facts.page, self._state
        signals: dict[str, Any] = {
            "attentive_seconds": round(facts.attentive_seconds, 1),
            "scroll_percent": round(page.scroll),
            "idle_seconds": round(facts.idle_seconds, 1),
            "exit_intent": page.exit_intent,
            "rage_clicks": page.rage_bursts,
        }
        if rule.when.visits is not None:
            v = rule.when.visits
            signals["visits"] = visits(state, v.page, v.days, facts.now)
        if rule.when.cart_churn is not None:
            signals["cart_churn"] = cart_churn(state, rule.when.cart_churn.minutes, facts.now)
        started = state.session.started if state.session else 0
        journey = [loc for at, loc in state.views if at >= started][-_JOURNEY_PAGES:]
        return {
            "page": page.location,
            "title": page.title,
            "signals": signals,
            "cart": cart_summary(state),
            "journey": journey,
            "session": facts.session_number,
            "visitor": "new" if facts.session_number <= 1 else "returning",
            "identified": state.user_id is not None,
            "device": self._device,
            "utm_source": facts.utm_source,
            "referrer": facts.referrer,
        }

    # -- output -------------------------------------------------------------

    def _session(self) -> str:
        if self._state.session is None:
            self._touch(self._now, "", "")
        assert self._state.session is not None
        return self._state.session.id

    def _signal(self, at: int, name: str, data: dict[str, Any]) -> None:
        self._out.append(
            {"t": "signal", "at": at, "session": self._session(), "name": name, "data": data}
        )

    # -- event handlers -----------------------------------------------------

    def _on_page(self, event: dict[str, Any], at: int) -> None:
        url = as_str(event.get("url"), _URL_CHARS)
        if not url:
            return
        location = location_of(url)
        nav = as_str(event.get("nav"), 16) or "load"
        if nav != "load" and self._page is not None and self._page.location == location:
            return  # a history call that changed only the hash or nothing is not a new page
        referrer = as_str(event.get("referrer"), _URL_CHARS) or ""
        title = as_str(event.get("title"), 200) or ""
        self._touch(at, url, referrer)
        self._state.add_view(at, location)
        page = PageView(
            url=url, location=location, title=title, referrer=referrer, started=at, clock=at
        )
        self._page = page
        data = {"path": page.path, "url": url, "title": title, "referrer": referrer, "nav": nav}
        self._signal(at, "page_view", data)

    def _on_vis(self, event: dict[str, Any], at: int) -> None:
        visible = as_bool(event.get("visible"))
        if visible is not None and self._attention is not None:
            self._attention.set_visible(visible, at)

    def _on_focus(self, event: dict[str, Any], at: int) -> None:
        focused = as_bool(event.get("focused"))
        if focused is not None and self._attention is not None:
            self._attention.focused = focused

    def _on_scroll(self, event: dict[str, Any], at: int) -> None:
        pct = as_num(event.get("pct"))
        if pct is None or self._page is None:
            return
        for milestone in self._page.scrolled(pct):
            self._signal(at, "scroll", {"path": self._page.path, "percent": milestone})

    def _on_click(self, event: dict[str, Any], at: int) -> None:
        x, y = as_num(event.get("x")), as_num(event.get("y"))
        if x is None or y is None or self._page is None:
            return
        if self._page.click(at, x, y):
            target = as_str(event.get("target"), 200) or ""
            data = {"path": self._page.path, "target": target, "count": self._page.rage_bursts}
            self._signal(at, "rage_click", data)

    def _on_exit(self, event: dict[str, Any], at: int) -> None:
        if self._page is not None and not self._page.exit_intent:
            self._page.exit_intent = True
            self._signal(at, "exit_intent", {"path": self._page.path})

    def _on_ecom(self, event: dict[str, Any], at: int) -> None:
        name = as_str(event.get("name"), 64)
        if name == "purchase":
            self._state.cart.clear()
            return
        action = CART_ACTIONS.get(name or "")
        if action is None:
            return
        items = cart_items(event.get("items"))
        currency = as_str(event.get("currency"), 8)
        if currency:
            self._state.currency = currency
        self._state.add_cart_change(at, action)
        apply_cart_event(self._state, action, items)
        value = as_num(event.get("value"))
        if value is None:
            value = sum(i["price"] * i["qty"] for i in items)
        data = {"action": action, "items": items, "value": value, "currency": currency}
        self._signal(at, "cart", data)

    def _on_track(self, event: dict[str, Any], at: int) -> None:
        name = as_str(event.get("name"), 100)
        if name:
            props: dict[str, Scalar] = scalar_map(event.get("props"))
            self._signal(at, "track", {"name": name, "props": props})

    def _on_identify(self, event: dict[str, Any], at: int) -> None:
        user_id = as_str(event.get("user_id"), 200)
        if not user_id:
            return
        self.set_identity(user_id, scalar_map(event.get("traits")))
        data = {"user_id": user_id, "traits": dict(self._state.traits)}
        self._signal(at, "identify", data)

    def _on_ui(self, event: dict[str, Any], at: int) -> None:
        chat_open, field_focus = as_bool(event.get("chat_open")), as_bool(event.get("field_focus"))
        if chat_open is not None:
            self._chat_open = chat_open
        if field_focus is not None:
            self._field_focus = field_focus
