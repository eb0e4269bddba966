"""Without the in-browser engine: the loader's own WebSocket, and the server runs the engine."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from browser.fixtures.customer import CustomerSite
from browser.fixtures.served import Store
from support.eventually import eventually

pytestmark = pytest.mark.browser

RULES = """
rules:
  - id: pricing-help
    name: Help on pricing
    when:
      page: ["/pricing*"]
      attentive_seconds: 40
    message:
      text: "Comparing plans? I can help."
      cta: {label: "See annual pricing", url: "/pricing?billing=annual"}
"""


def outcomes(store: Store) -> list[str]:
    return [f["kind"] for f in store.frames("outcome")]


def test_without_webassembly_the_server_engine_still_fires_the_rule(
    customer: CustomerSite, store: Store, page: Page
) -> None:
    store.load_rules(RULES)
    page.add_init_script("delete window.WebAssembly;")
    workers: list[str] = []
    page.on("worker", lambda w: workers.append(w.url))
    customer.head = "<script>bpract('on', 'ready', (i) => { window.readyInfo = i; });</script>"
    page.goto(customer.url("/pricing"))
    page.wait_for_function("window.readyInfo")
    assert page.evaluate("window.readyInfo") == {"engine": "server"}
    page.mouse.move(100, 200)
    log = page.locator("#bpract-chat [role=log]")
    log.get_by_text("Comparing plans? I can help.").wait_for(timeout=20_000)
    assert workers == []
    eventually(lambda: outcomes(store) == ["shown"])
    # the visitor replies, then closes the chat with Escape
    reply = page.locator("#bpract-chat textarea")
    reply.fill("Is there a student discount?")
    reply.press("Enter")
    assert reply.input_value() == ""
    assert log.get_by_text("Is there a student discount?").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#bpract-chat [role=dialog]").is_visible()
    eventually(
        lambda: [f["text"] for f in store.frames("message")] == ["Is there a student discount?"]
    )
    message = store.frames("message")[0]
    assert message["outreach"] == store.frames("outcome")[0]["outreach"]
    # replied counts; closing after a reply is not a dismissal
    eventually(lambda: outcomes(store) == ["shown", "replied"])


def test_an_engine_that_is_not_ready_in_time_falls_back(
    customer: CustomerSite, store: Store, page: Page
) -> None:
    customer.attrs = 'data-engine-timeout="1"'
    customer.head = """<script>
      bpract('on', 'ready', (i) => { window.readyInfo = i; });
      bpract('track', 'before_fallback', {});
    </script>"""
    page.goto(customer.url("/"))
    page.wait_for_function("window.readyInfo")
    assert page.evaluate("window.readyInfo") == {"engine": "server"}
    eventually(lambda: [e["name"] for e in store.events("track")] == ["before_fallback"])


def test_events_not_yet_forwarded_survive_a_navigation(
    customer: CustomerSite, store: Store, page: Page
) -> None:
    # the first page leaves while its engine is still loading: its events wait in the tab
    customer.head = "<script>bpract('track', 'first_page', {});</script>"
    page.goto(customer.url("/one"))
    page.wait_for_function("typeof bpract.q == 'undefined'")
    customer.attrs = 'data-engine="server"'
    customer.head = ""
    page.goto(customer.url("/two"))
    eventually(lambda: [e["name"] for e in store.events("track")] == ["first_page"])

    def pages() -> list[str]:
        return [e["url"].removeprefix(customer.origin) for e in store.events("page")]

    # the second page's own event may be stored a moment after the first page's
    eventually(lambda: len(pages()) >= 2)
    assert pages() == ["/one", "/two"]
