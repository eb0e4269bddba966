"""Consent-required mode: nothing stored and nothing sent until the visitor grants consent."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from browser.fixtures.customer import CustomerSite
from browser.fixtures.served import Store
from support.eventually import eventually

pytestmark = pytest.mark.browser

STORAGE = """() => [localStorage, sessionStorage].flatMap(
  (area) => Object.keys(area).filter((k) => k.startsWith('bpract')))"""


def open_and_wait(customer: CustomerSite, page: Page, sockets: list[str]) -> None:
    customer.attrs = 'data-consent="required" data-engine="server"'
    customer.head = "<script>bpract('track', 'before_consent', {});</script>"
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(customer.url("/"))
    page.wait_for_load_state("load")
    page.mouse.move(50, 50)
    page.wait_for_timeout(1500)  # fixed: proves no connection; with consent it opens well within


def test_nothing_is_stored_or_sent_until_consent_is_granted(
    customer: CustomerSite, store: Store, page: Page
) -> None:
    sockets: list[str] = []
    open_and_wait(customer, page, sockets)
    assert sockets == []
    assert page.evaluate(STORAGE) == []
    assert store.frames("event") == []
    page.evaluate("bpract('consent', 'granted')")
    eventually(lambda: [e["name"] for e in store.events("track")] == ["before_consent"])
    # Playwright delivers its events during its own calls: poll with the page's own wait.
    eventually(lambda: sockets, pause=lambda s: page.wait_for_timeout(s * 1000))
    assert sockets == [customer.widget.replace("http", "ws") + "/v1/visitor"]
    assert sorted(page.evaluate(STORAGE)) == ["bpract:fbq", "bpract:k", "bpract:s", "bpract:v"]
    assert [e["url"] for e in store.events("page")] == [customer.url("/")]


def test_denied_consent_drops_what_was_kept(
    customer: CustomerSite, store: Store, page: Page
) -> None:
    sockets: list[str] = []
    open_and_wait(customer, page, sockets)
    page.evaluate("bpract('consent', 'denied'); bpract('track', 'after_denial', {})")
    page.wait_for_timeout(1000)  # fixed: proves nothing is sent after a denial
    page.evaluate("() => { window.dispatchEvent(new PageTransitionEvent('pagehide')); }")
    assert sockets == []
    assert page.evaluate(STORAGE) == []
    assert store.frames("event") == []
