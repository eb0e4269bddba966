"""Visitor ids chosen for a rule's holdout, and driving the widget on a demo page."""

from __future__ import annotations

import base64
import hashlib
import itertools
from collections.abc import Callable

from playwright.sync_api import Locator, Page

from support.eventually import eventually

__all__ = [
    "ENGINE_START",
    "chat_log",
    "holdout_bucket",
    "keep_attentive_until",
    "pick_visitor",
    "preset_visitor",
    "wait_ready",
]

ENGINE_START = 60.0  # Pyodide start is seconds of CPU, more on a loaded machine
_READY = "bpract('on', 'ready', (info) => { window.readyInfo = info; });"


def holdout_bucket(site_id: int, rule_id: str, visitor: str) -> int:
    """docs/rules.md: ``sha256(site:rule:visitor)``, first 8 bytes big-endian, mod 10,000."""
    digest = hashlib.sha256(f"{site_id}:{rule_id}:{visitor}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000


def _visitor_id(seed: str) -> str:
    """``v_`` + 22 url-safe characters, like the loader's, but reproducible."""
    raw = base64.urlsafe_b64encode(hashlib.sha256(seed.encode()).digest()).decode()
    return "v_" + raw[:22]


def pick_visitor(site_id: int, rule_id: str, holdout: int, *, held_out: bool, tag: str) -> str:
    """The first reproducible visitor id that is (or is not) in the rule's holdout."""
    for n in range(10_000):
        visitor = _visitor_id(f"{tag}:{n}")
        if (holdout_bucket(site_id, rule_id, visitor) < holdout * 100) == held_out:
            return visitor
    raise AssertionError(f"no visitor with held_out={held_out} for {rule_id}")


def preset_visitor(page: Page, visitor: str) -> None:
    """Every document of this tab starts with ``visitor`` as its stored visitor id."""
    page.add_init_script(f"localStorage.setItem('bpract:v', {visitor!r});")


def wait_ready(page: Page, timeout: float = ENGINE_START) -> dict[str, object]:
    """Wait until the widget's engine (or its fallback) is live on the current document."""
    page.evaluate(_READY)
    page.wait_for_function("window.readyInfo", timeout=timeout * 1000)
    info: dict[str, object] = page.evaluate("window.readyInfo")
    return info


def chat_log(page: Page) -> Locator:
    """The message list inside the widget's Shadow DOM (Playwright pierces open roots)."""
    return page.locator("#bpract-chat [role=log]")


def keep_attentive_until(page: Page, done: Callable[[], object], timeout: float) -> None:
    """Move the mouse and scroll like a reader until ``done()`` holds; fail after ``timeout`` s."""
    steps = itertools.count(1)

    def read_a_little() -> object:
        step = next(steps)
        page.mouse.move(200 + 40 * (step % 5), 250 + 30 * (step % 3))
        page.mouse.wheel(0, 120 if step % 4 else -360)
        return done()

    eventually(read_a_little, timeout, 0.5, what="attentive reading",
               pause=lambda s: page.wait_for_timeout(s * 1000))  # fmt: skip
