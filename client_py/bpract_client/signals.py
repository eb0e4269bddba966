"""Per-page signals from raw events: attentive dwell, idle, scroll, exits, rage clicks."""

from __future__ import annotations

from dataclasses import dataclass, field

from .rules import glob_match
from .state import VisitorState

__all__ = [
    "ACTIVE_WINDOW_MS",
    "DWELL_MILESTONES",
    "IDLE_SIGNAL_SECONDS",
    "SCROLL_MILESTONES",
    "Attention",
    "PageView",
    "cart_churn",
    "visits",
]

ACTIVE_WINDOW_MS = 30_000  # attention lapses 30 s after the last activity
DWELL_MILESTONES = (10, 30, 60, 120, 300)
SCROLL_MILESTONES = (25, 50, 75, 100)
IDLE_SIGNAL_SECONDS = 30
RAGE_CLICKS = 3
RAGE_WINDOW_MS = 1_000
RAGE_RADIUS_PX = 30


@dataclass(slots=True)
class Attention:
    """The tab's visibility, focus and last activity (they outlive SPA page changes)."""

    last_activity: int
    visible: bool = True
    focused: bool = True
    visible_since: int = 0
    idle_reported: bool = False

    def attentive_ms(self, start: int, end: int) -> int:
        """How much of ``[start, end]`` was attentive, given no change of state inside it."""
        if not (self.visible and self.focused):
            return 0
        return max(0, min(end, self.last_activity + ACTIVE_WINDOW_MS) - start)

    def idle_ms(self, now: int) -> int:
        """Time without activity while visible (0 when the tab is hidden)."""
        if not self.visible:
            return 0
        return max(0, now - max(self.last_activity, self.visible_since))

    def activity(self, at: int) -> None:
        self.last_activity = max(self.last_activity, at)
        self.idle_reported = False

    def set_visible(self, visible: bool, at: int) -> None:
        if visible and not self.visible:
            self.visible_since = at
        self.visible = visible


@dataclass(slots=True)
class PageView:
    """One page view and what happened on it."""

    url: str
    location: str  # path?query
    title: str
    referrer: str
    started: int
    clock: int  # attention is accounted up to here
    attentive_ms: int = 0
    scroll: float = 0.0
    exit_intent: bool = False
    rage_bursts: int = 0
    clicks: list[tuple[int, float, float]] = field(default_factory=list)
    dwell_sent: set[int] = field(default_factory=set)
    scroll_sent: set[int] = field(default_factory=set)
    fired: set[str] = field(default_factory=set)

    @property
    def path(self) -> str:
        return self.location.partition("?")[0]

    def advance(self, now: int, attention: Attention) -> None:
        """Account attention up to ``now`` (call before any change of attention state)."""
        if now > self.clock:
            self.attentive_ms += attention.attentive_ms(self.clock, now)
            self.clock = now

    def new_dwell_milestones(self, seconds: float) -> list[int]:
        return _crossed(DWELL_MILESTONES, seconds, self.dwell_sent)

    def scrolled(self, pct: float) -> list[int]:
        """Record a scroll depth; returns the milestones crossed for the first time."""
        self.scroll = max(self.scroll, min(100.0, max(0.0, pct)))
        return _crossed(SCROLL_MILESTONES, self.scroll, self.scroll_sent)

    def click(self, at: int, x: float, y: float) -> bool:
        """Record a click; True when it completes a rage-click burst."""
        near = [
            c
            for c in self.clicks
            if at - c[0] <= RAGE_WINDOW_MS
            and (c[1] - x) ** 2 + (c[2] - y) ** 2 <= RAGE_RADIUS_PX**2
        ]
        if len(near) + 1 >= RAGE_CLICKS:
            self.rage_bursts += 1
            self.clicks = []
            return True
        self.clicks = [c for c in self.clicks if at - c[0] <= RAGE_WINDOW_MS][-20:]
        self.clicks.append((at, x, y))
        return False


def _crossed(milestones: tuple[int, ...], value: float, sent: set[int]) -> list[int]:
    new = [m for m in milestones if value >= m and m not in sent]
    sent.update(new)
    return new


def visits(state: VisitorState, pattern: str, days: float, now: int) -> int:
    """Page views matching ``pattern`` in the last ``days``, across sessions."""
    since = now - days * 86_400_000
    return sum(1 for at, loc in state.views if at >= since and glob_match(pattern, loc))


def cart_churn(state: VisitorState, minutes: float, now: int) -> int:
    """Cart adds plus removes in the last ``minutes``."""
    since = now - minutes * 60_000
    return sum(1 for at, _ in state.cart_changes if at >= since)
