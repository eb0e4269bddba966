"""Recorded streams fed back into the browser's engine: raw events as recorded, or the raw
events the stored signal frames imply (see :mod:`bpract.triggers.backtest` for what that
reproduces and what it cannot).
"""

from __future__ import annotations

import bisect
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bpract.visitors.storage import RecordedFrame
from bpract_client.engine import Engine
from bpract_client.rules import EngineRuleset
from bpract_client.session import SESSION_TIMEOUT_MS
from bpract_client.signals import ACTIVE_WINDOW_MS

__all__ = ["DEVICE_UNKNOWN", "EngineFire", "Identity", "StreamReplay", "replay_stream"]

#: The device of a stream no recorded fire names (the hello that said it is not stored).
DEVICE_UNKNOWN = "unknown"
_TICK_MS = 1_000  # the browser ticks its engine every second
_ACT_EVERY_MS = ACTIVE_WINDOW_MS // 2
_CART_EVENTS = {"add": "add_to_cart", "remove": "remove_from_cart"}
_IDENTITY = "_identity"  # an input that is not a raw event: a verified identity to apply

#: A verified user id and its traits, applied to the engine as the socket applies one.
Identity = tuple[str, dict[str, Any]]
Verify = Callable[[str, str], bool]
Event = dict[str, Any]


@dataclass(frozen=True, slots=True)
class EngineFire:
    """A fire the replayed engine produced."""

    rule: str
    stream: str
    page: str
    """Path and query, as ``context.page``."""
    at_ms: int
    """The browser's clock, as the engine stamps it."""
    server_ms: int
    """When the server would have received it: ``at_ms`` plus the stream's recorded skew."""


@dataclass(slots=True)
class StreamReplay:
    fires: list[EngineFire] = field(default_factory=list)
    sessions: set[str] = field(default_factory=set)
    state: dict[str, Any] = field(default_factory=dict)
    device_known: bool = False


def _body(frame: RecordedFrame) -> dict[str, Any]:
    try:
        body = json.loads(frame.body)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _device(frames: list[RecordedFrame]) -> str | None:
    for frame in frames:
        if frame.t == "fire":
            device = (_body(frame).get("context") or {}).get("device")
            if isinstance(device, str):
                return device
    return None


def _raw_events(frames: list[RecordedFrame], verify: Verify) -> list[Event]:
    """``event`` frames (a server-side engine's visitor) as the socket feeds them."""
    events = []
    for frame in frames:
        event = _body(frame).get("event") if frame.t == "event" else None
        if not isinstance(event, dict):
            continue
        at = event.get("at") if isinstance(event.get("at"), int) else frame.at_ms
        if event.get("k") == "identify":  # the socket verifies it and sets the identity
            user_id, user_hash = event.get("user_id"), event.get("user_hash")
            if (
                isinstance(user_id, str)
                and isinstance(user_hash, str)
                and verify(user_id, user_hash)
            ):
                traits = event.get("traits") if isinstance(event.get("traits"), dict) else {}
                events.append({"k": _IDENTITY, "at": at, "user_id": user_id, "traits": traits})
            continue
        events.append({**event, "at": at})
    return events


@dataclass(slots=True)
class _Page:
    dwell: float = 0.0  # the last dwell milestone reached
    attentive_until: int = 0  # the end of the last attentive stretch made for it


def _attention(page: _Page, seconds: float, at: int) -> list[Event]:
    """Attentive time that brings the page's dwell from its last milestone to ``seconds`` by
    ``at``: focus and activity in the stretch just before, unfocused again after it."""
    need = round((seconds - page.dwell) * 1000)
    if need <= 0:
        return []
    start = max(page.attentive_until, at - need)
    end = start + need
    page.dwell, page.attentive_until = seconds, end
    events: list[Event] = [{"k": "focus", "at": start, "focused": True}]
    events += [{"k": "act", "at": t} for t in range(start, end, _ACT_EVERY_MS)]
    return [*events, {"k": "focus", "at": end, "focused": False}]


def _dwell(data: dict[str, Any], at: int, page: _Page) -> list[Event]:
    seconds = data.get("seconds")
    return _attention(page, float(seconds), at) if isinstance(seconds, int | float) else []


def _cart(data: dict[str, Any], at: int, _page: _Page) -> list[Event]:
    name = _CART_EVENTS.get(str(data.get("action")))
    if name is None:
        return []
    fields = {k: data.get(k) for k in ("items", "value", "currency")}
    return [{"k": "ecom", "at": at, "name": name, **fields}]


_Rebuild = Callable[[dict[str, Any], int, _Page], list[Event]]

#: The raw events that make the engine emit each signal at its time (none for ``idle``:
#: idle is the absence of events).
_REBUILD: dict[str, _Rebuild] = {
    "dwell": _dwell,
    "cart": _cart,
    "scroll": lambda d, at, _: [{"k": "scroll", "at": at, "pct": d.get("percent")}],
    "exit_intent": lambda d, at, _: [{"k": "exit", "at": at}],
    # three clicks in one place within a second make one burst
    "rage_click": lambda d, at, _: [{"k": "click", "at": at - n, "x": 0, "y": 0}
                                    for n in (2, 1, 0)],
    "track": lambda d, at, _: [{"k": "track", "at": at, "name": d.get("name"),
                                "props": d.get("props")}],
    "identify": lambda d, at, _: [{"k": "identify", "at": at, "user_id": d.get("user_id"),
                                   "traits": d.get("traits")}],
}  # fmt: skip


def _from_signals(frames: list[RecordedFrame]) -> list[Event]:
    """Raw events rebuilt from a browser engine's ``signal`` frames.

    Between its dwell milestones a page is unfocused: attention is made only where a
    milestone shows it happened, just before the milestone's time."""
    events: list[Event] = []
    page: _Page | None = None
    for frame in frames:
        body = _body(frame) if frame.t == "signal" else {}
        name, data, at = body.get("name"), body.get("data"), frame.at_ms
        if not isinstance(name, str) or not isinstance(data, dict):
            continue
        if name == "page_view":
            page = _Page(attentive_until=at)
            view = {k: data.get(k) for k in ("url", "title", "referrer", "nav")}
            events += [{"k": "page", "at": at, **view}, {"k": "focus", "at": at, "focused": False}]
        elif page is not None and (rebuild := _REBUILD.get(name)) is not None:
            events += rebuild(data, at, page)
    return sorted(events, key=lambda e: int(e["at"]))  # stable: same-time events keep order


class _Skew:
    """The server's receive time of a browser time, from the stream's stored frames."""

    def __init__(self, frames: list[RecordedFrame]) -> None:
        pairs = sorted((f.at_ms, f.received_ms - f.at_ms) for f in frames)
        self._at = [at for at, _ in pairs]
        self._offset = [offset for _, offset in pairs]

    def server_ms(self, at_ms: int) -> int:
        i = max(0, bisect.bisect_right(self._at, at_ms) - 1)
        return at_ms + self._offset[i]


def _ticks(after: int, until: int) -> Iterator[int]:
    """The browser's ticks between two inputs (none past a session's end of silence)."""
    last = min(until, after + SESSION_TIMEOUT_MS)
    return iter(range(after + _TICK_MS, last, _TICK_MS))


def replay_stream(
    frames: list[RecordedFrame],
    *,
    ruleset: EngineRuleset,
    state: dict[str, Any] | None,
    identity: Identity | None,
    verify: Verify,
    new_id: Callable[[], str],
) -> StreamReplay:
    """Feed one stream's frames (one tab, in seq order) to a fresh engine that starts from
    ``state`` (the visitor's engine state as the tab found it); what it fired."""
    device = _device(frames)
    engine = Engine(ruleset=ruleset, state=state, device=device or DEVICE_UNKNOWN, new_id=new_id)
    if identity is not None:
        engine.set_identity(*identity)
    raw = any(f.t == "event" for f in frames)
    events = _raw_events(frames, verify) if raw else _from_signals(frames)
    skew, stream = _Skew(frames), frames[0].stream
    out = StreamReplay(device_known=device is not None)

    def collect() -> None:
        for frame in engine.drain():
            if isinstance(session := frame.get("session"), str):
                out.sessions.add(session)
            if frame.get("t") == "fire":
                page = (frame.get("context") or {}).get("page") or ""
                at = int(frame["at"])
                out.fires.append(
                    EngineFire(str(frame["rule"]), stream, str(page), at, skew.server_ms(at))
                )

    last: int | None = None
    for event in events:
        at = int(event["at"])
        for tick in _ticks(last, at) if last is not None else ():
            engine.tick(tick)
            collect()
        if event["k"] == _IDENTITY:
            engine.set_identity(event["user_id"], event["traits"])
        else:
            engine.handle(event)
        collect()
        last = at if last is None else max(last, at)
    end = max(f.at_ms for f in frames)
    for tick in _ticks(last, end + _TICK_MS) if last is not None else ():
        engine.tick(tick)
        collect()
    out.state = engine.snapshot()
    return out
