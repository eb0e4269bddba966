"""The Pyodide adapter driven through stand-ins for the ``js`` and ``pyodide.ffi`` modules."""

from __future__ import annotations

import importlib
import json
import sys
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from unit.client.support import T0, page


class Proxy:
    """Like a pyodide PyProxy of a callable: unusable once destroyed."""

    def __init__(self, fn: Callable[..., Any], *, once: bool = False) -> None:
        self.fn, self.once, self.destroyed = fn, once, False

    def __call__(self, *args: Any) -> Any:
        assert not self.destroyed, "called a destroyed proxy"
        if self.once:
            self.destroyed = True
        return self.fn(*args)

    def destroy(self) -> None:
        assert not self.destroyed, "destroyed twice"
        self.destroyed = True


@dataclass
class Event:
    data: Any = None
    code: int = 1000
    reason: str = ""


@dataclass
class FakeWebSocket:
    url: str
    readyState: int = 0  # the DOM spelling
    sent: list[dict[str, Any]] = field(default_factory=list)
    closed: tuple[int, str] | None = None
    onopen: Any = None
    onmessage: Any = None
    onclose: Any = None


@dataclass
class FakeJs:
    sockets: list[FakeWebSocket] = field(default_factory=list)
    posted: list[dict[str, Any]] = field(default_factory=list)
    timers: list[tuple[int, Proxy]] = field(default_factory=list)
    intervals: list[tuple[int, Proxy]] = field(default_factory=list)
    now: int = T0

    def module(self) -> types.ModuleType:
        js = types.ModuleType("js")
        js.WebSocket = types.SimpleNamespace(new=self._new_socket)  # type: ignore[attr-defined]
        js.Date = types.SimpleNamespace(now=lambda: float(self.now))  # type: ignore[attr-defined]
        js.setTimeout = lambda fn, ms: self.timers.append((ms, fn))  # type: ignore[attr-defined]
        js.setInterval = lambda fn, ms: self.intervals.append((ms, fn))  # type: ignore[attr-defined]
        js.postMessage = lambda text: self.posted.append(json.loads(text))  # type: ignore[attr-defined]
        return js

    def _new_socket(self, url: str) -> FakeWebSocket:
        ws = FakeWebSocket(url)
        ws.send = lambda text: ws.sent.append(json.loads(text))  # type: ignore[attr-defined]

        def close(code: int, reason: str) -> None:
            ws.closed = (code, reason)

        ws.close = close  # type: ignore[attr-defined]
        self.sockets.append(ws)
        return ws

    def run_timers(self) -> None:
        timers, self.timers = sorted(self.timers, key=lambda t: t[0]), []
        for _, fn in timers:
            fn()


@pytest.fixture
def fake_js(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeJs]:
    fake = FakeJs()
    ffi = types.ModuleType("pyodide.ffi")
    ffi.create_proxy = Proxy  # type: ignore[attr-defined]
    ffi.create_once_callable = lambda fn: Proxy(fn, once=True)  # type: ignore[attr-defined]
    pyodide = types.ModuleType("pyodide")
    pyodide.ffi = ffi  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "js", fake.module())
    monkeypatch.setitem(sys.modules, "pyodide", pyodide)
    monkeypatch.setitem(sys.modules, "pyodide.ffi", ffi)
    monkeypatch.delitem(sys.modules, "bpract_client.browser", raising=False)
    yield fake
    sys.modules.pop("bpract_client.browser", None)


CONFIG = {
    "server": "ws://127.0.0.1:9/v1/visitor",
    "site": "pk_test",
    "visitor": "v_1",
    "stream": "s_1",
    "page": {"url": "https://shop.example/", "title": "Home", "referrer": ""},
    "device": "desktop",
    "identity": None,
    "state": None,
    "outbox": None,
}
WELCOME = {"t": "welcome", "stored_seq": 0, "ruleset": {"version": 1, "rules": []}, "config": {}}


def test_start_connects_ticks_and_relays(fake_js: FakeJs) -> None:
    browser = importlib.import_module("bpract_client.browser")
    receive = browser.start(json.dumps(CONFIG))
    [ws] = fake_js.sockets
    assert ws.url == CONFIG["server"]
    assert [ms for ms, _ in fake_js.intervals] == [1000]
    ws.readyState = 1
    ws.onopen(Event())
    assert ws.sent[0]["t"] == "hello"
    ws.onmessage(Event(data=json.dumps(WELCOME)))
    statuses = [p["state"] for p in fake_js.posted if p["type"] == "status"]
    assert statuses == ["connected"]
    receive(json.dumps({"type": "events", "events": [page(T0)]}))
    assert [(f["t"], f["seq"]) for f in ws.sent[1:]] == [("signal", 1)]
    receive("not json")
    ws.onmessage(Event(data=b"\x00binary"))
    assert len(ws.sent) == 2
    fake_js.now += 15_000
    fake_js.intervals[0][1]()  # the 1 s tick lets attention time pass
    assert [(f["name"], f["data"]["seconds"]) for f in ws.sent[2:]] == [("dwell", 10)]


def test_a_lost_socket_is_freed_and_replaced(fake_js: FakeJs) -> None:
    browser = importlib.import_module("bpract_client.browser")
    browser.start(json.dumps(CONFIG))
    [first] = fake_js.sockets
    first.readyState = 1
    first.onopen(Event())
    handlers = (first.onopen, first.onmessage, first.onclose)
    first.readyState = 3
    first.onclose(Event(code=1006))
    assert [p["state"] for p in fake_js.posted if p["type"] == "status"] == ["disconnected"]
    fake_js.run_timers()  # frees the old proxies, then reconnects
    assert all(h.destroyed for h in handlers)
    assert (first.onopen, first.onmessage, first.onclose) == (None, None, None)
    second = fake_js.sockets[1]
    second.readyState = 1
    second.onopen(Event())
    assert second.sent[0]["t"] == "hello"


def test_final_close_posts_closed_and_does_not_reconnect(fake_js: FakeJs) -> None:
    browser = importlib.import_module("bpract_client.browser")
    browser.start(json.dumps(CONFIG))
    [ws] = fake_js.sockets
    ws.onclose(Event(code=4403, reason="forbidden_origin"))
    assert [p for p in fake_js.posted if p["type"] == "status"][-1] == {
        "type": "status",
        "state": "closed",
        "detail": {"code": 4403, "reason": "forbidden_origin"},
    }
    fake_js.run_timers()
    assert len(fake_js.sockets) == 1


def test_sends_nothing_on_a_socket_that_is_not_open(fake_js: FakeJs) -> None:
    browser = importlib.import_module("bpract_client.browser")
    browser.start(json.dumps(CONFIG))
    [ws] = fake_js.sockets
    ws.onopen(Event())  # readyState still CONNECTING in this fake
    assert ws.sent == []
