"""The Pyodide adapter: the one module that touches ``js`` and ``pyodide``."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import js
from pyodide.ffi import create_once_callable, create_proxy

from .client import Client

__all__ = ["start"]

_HANDLERS = ("onopen", "onmessage", "onclose")
_kept: list[Any] = []  # proxies that live as long as the worker


class _WebSocketTransport:
    """The client's Transport over ``js.WebSocket``; a replaced socket's callbacks are freed."""

    def __init__(self) -> None:
        self.client: Client | None = None
        self._ws: Any = None
        self._proxies: list[Any] = []

    def open(self, url: str) -> None:
        self._release()
        ws = js.WebSocket.new(url)
        self._ws = ws
        callbacks: dict[str, Callable[[Any], None]] = {
            "onopen": lambda _event: self._deliver(ws, lambda c: c.on_open()),
            "onmessage": lambda event: self._deliver(ws, lambda c: _text(c, event.data)),
            "onclose": lambda event: self._closed(ws, int(event.code), str(event.reason)),
        }
        for name in _HANDLERS:
            proxy = create_proxy(callbacks[name])
            self._proxies.append(proxy)
            setattr(ws, name, proxy)

    def send(self, text: str) -> None:
        if self._ws is not None and self._ws.readyState == 1:  # OPEN
            self._ws.send(text)

    def close(self, code: int, reason: str) -> None:
        if self._ws is not None:
            self._ws.close(code, reason)

    def _deliver(self, ws: Any, call: Callable[[Client], None]) -> None:
        # events of a socket that was already replaced must not reach the client
        if ws is self._ws and self.client is not None:
            call(self.client)

    def _closed(self, ws: Any, code: int, reason: str) -> None:
        if ws is not self._ws:
            return
        self._deliver(ws, lambda c: c.on_close(code, reason))
        # a proxy is not destroyed while it runs: free them once this callback returns
        js.setTimeout(create_once_callable(self._release_closed(ws)), 0)

    def _release_closed(self, ws: Any) -> Callable[[], None]:
        def release() -> None:
            if ws is self._ws:
                self._release()

        return release

    def _release(self) -> None:
        if self._ws is not None:
            for name in _HANDLERS:
                setattr(self._ws, name, None)
        for proxy in self._proxies:
            proxy.destroy()
        self._proxies = []
        self._ws = None


def _text(client: Client, data: Any) -> None:
    if isinstance(data, str):  # binary frames are not part of the protocol
        client.on_text(data)


def _post(message: dict[str, Any]) -> None:
    js.postMessage(json.dumps(message))


def _now() -> int:
    return int(js.Date.now())


def _schedule(delay_s: float, fn: Callable[[], None]) -> None:
    js.setTimeout(create_once_callable(fn), max(0, int(delay_s * 1000)))


def start(config_json: str) -> Callable[[str], None]:
    """Start the client from the worker's config; returns the main-thread message handler."""
    config = json.loads(config_json)
    transport = _WebSocketTransport()
    client = Client(config, transport, _post, _now, random.random, schedule=_schedule)
    transport.client = client
    tick = create_proxy(client.tick)
    _kept.append(tick)
    js.setInterval(tick, 1000)
    client.start()

    def receive(text: str) -> None:
        try:
            message = json.loads(text)
        except ValueError:
            return
        client.on_main_message(message)

    return receive
