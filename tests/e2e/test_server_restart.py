"""A server crash mid-session: after the restart every event made is stored exactly once."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page

from e2e.records import Records
from e2e.stack import SERVER_START, Stack, own_stack
from e2e.visitor import wait_ready
from support.eventually import eventually

pytestmark = pytest.mark.browser

PRODUCT = "/products/harbour-linen-shirt"
# a worker that started while the server was down backs off up to 30 s between attempts
RECONNECT = 90.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory, widget_dist: Path) -> Iterator[Stack]:
    """A server of this module's own: the test kills it."""
    yield from own_stack(tmp_path_factory, widget_dist)


class Visit:
    """Drives the demo store and writes down every page view and cart change it causes."""

    def __init__(self, page: Page, stack: Stack) -> None:
        self.page = page
        self.origin = stack.demo.url
        self.views: list[str] = []
        self.cart: list[str] = []

    def load(self, path: str) -> None:
        self.page.wait_for_url(self.origin + path)
        self.views.append(path)

    def spa_view(self, path: str) -> None:
        self.page.evaluate("(p) => history.pushState({}, '', p)", path)
        self.views.append(path)

    def add(self, size: str) -> None:
        self.page.check(f'[data-test="size-{size}"]')
        self.page.click('[data-test="add-to-cart"]')
        self.cart.append("add")

    def remove(self) -> None:
        self.page.locator('[data-test="remove-line"]').first.click()
        self.cart.append("remove")

    def scroll(self) -> None:
        self.page.mouse.move(300, 300)
        self.page.mouse.wheel(0, 400)


def stored_views(records: Records, origin: str) -> list[str]:
    return [v["url"].removeprefix(origin) for v in records.signals("page_view")]


def stored_cart(records: Records) -> list[str]:
    return [c["action"] for c in records.signals("cart")]


def test_events_made_while_the_server_is_down_arrive_exactly_once(stack: Stack, page: Page) -> None:
    visit = Visit(page, stack)
    page.goto(stack.url(PRODUCT))
    visit.load(PRODUCT)
    assert wait_ready(page)["engine"] == "pyodide"
    visitor = page.evaluate("localStorage.getItem('bpract:v')")
    records = Records(stack.server.db, visitor)
    visit.add("M")
    visit.spa_view(PRODUCT + "?colour=sand")
    eventually(lambda: stored_views(records, visit.origin) == visit.views, timeout=20)
    eventually(lambda: stored_cart(records) == visit.cart, timeout=20)

    stack.server.kill()
    visit.add("L")
    visit.spa_view(PRODUCT + "?colour=navy")
    visit.scroll()
    visit.add("S")
    visit.add("XL")  # and leave at once: this frame exists only in the worker yet
    page.click('[data-test="nav-cart"]')  # a real navigation: a new document and a new engine
    visit.load("/cart")
    wait_ready(page)
    visit.remove()
    visit.spa_view("/cart?step=review")
    stack.server.start(timeout=SERVER_START)
    visit.remove()
    visit.spa_view("/cart?step=pay")

    eventually(lambda: stored_cart(records), RECONNECT, equals=visit.cart)
    eventually(lambda: stored_views(records, visit.origin), RECONNECT, equals=visit.views)
    # nothing left to send, and nothing more arrives from a late resend
    eventually(lambda: outbox(page) == [], timeout=20)
    assert stored_cart(records) == visit.cart
    assert stored_views(records, visit.origin) == visit.views
    streams = records.frame_seqs()
    assert len(streams) == 1  # one tab, one stream, across the navigation
    (seqs,) = streams.values()
    assert seqs == list(range(1, len(seqs) + 1))
    # each stored signal frame became exactly one signal row
    assert len(records.frames("signal")) == records.count("signals")


def outbox(page: Page) -> list[object] | None:
    raw = page.evaluate("sessionStorage.getItem('bpract:outbox')")
    return None if raw is None else list(json.loads(raw)["frames"])
