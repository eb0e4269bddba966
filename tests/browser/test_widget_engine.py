"""The engine in a worker: page views as acked signals, a rule's outreach in the chat, no jank."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Page

from browser.fixtures.customer import CustomerSite
from browser.fixtures.served import Store
from support.eventually import eventually

pytestmark = pytest.mark.browser

ENGINE_START = 60.0  # Pyodide start is seconds of CPU; generous for a loaded machine

RULES = """
rules:
  - id: pricing-help
    name: Help on pricing
    when:
      page: ["/pricing*"]
      attentive_seconds: 40
    message:
      text: "Comparing plans? <img src=x onerror=window.pwned=1> I can help."
      cta: {label: "See annual pricing", url: "/pricing?billing=annual"}
"""

READY = "bpract('on', 'ready', (info) => { window.readyInfo = info; });"


def wait_ready(page: Page) -> dict[str, object]:
    page.evaluate(READY)
    page.wait_for_function("window.readyInfo", timeout=ENGINE_START * 1000)
    info: dict[str, object] = page.evaluate("window.readyInfo")
    return info


def test_page_views_reach_the_server_as_acked_signals(
    customer: CustomerSite, store: Store, page: Page
) -> None:
    page.goto(customer.url("/start"))
    info = wait_ready(page)
    assert info["engine"] == "pyodide"
    page.evaluate("history.pushState({}, '', '/pricing')")
    page.evaluate("history.replaceState({}, '', '/pricing?plan=pro')")
    page.evaluate("history.back()")

    def views() -> list[tuple[str, str]]:
        return [
            (s["url"].removeprefix(customer.origin), s["nav"]) for s in store.signals("page_view")
        ]

    eventually(lambda: len(views()) >= 4, timeout=15)
    assert views() == [
        ("/start", "load"),
        ("/pricing", "push"),
        ("/pricing?plan=pro", "replace"),
        ("/start", "pop"),
    ]

    # acknowledged: the outbox the worker persisted in the tab has nothing left to send
    def outbox_frames() -> list[object] | None:
        raw = page.evaluate("sessionStorage.getItem('bpract:outbox')")
        return None if raw is None else list(json.loads(raw)["frames"])

    eventually(lambda: outbox_frames() == [], timeout=15)
    assert page.evaluate("localStorage.getItem('bpract:v')").startswith("v_")
    # Long tasks on the host page are a performance budget: bench/widget_cost.py measures them.


def test_attentive_rule_fires_and_its_outreach_appears_in_the_chat(
    customer: CustomerSite, store: Store, page: Page
) -> None:
    store.load_rules(RULES)
    page.goto(customer.url("/pricing"))
    wait_ready(page)
    page.mouse.move(200, 300)
    page.mouse.move(260, 340)
    log = page.locator("#bpract-chat [role=log]")
    log.get_by_text("Comparing plans?").wait_for(timeout=20_000)
    panel = page.locator("#bpract-chat [role=dialog]")
    assert panel.is_visible()
    assert log.get_attribute("aria-live") == "polite"
    # untrusted text is text: the markup is shown, never parsed
    assert "<img src=x" in log.inner_text()
    assert page.evaluate("window.pwned") is None
    assert page.evaluate("document.activeElement === document.body")  # focus not stolen

    def outcomes() -> list[str]:
        return [f["kind"] for f in store.frames("outcome")]

    eventually(lambda: outcomes() == ["shown"])
    fire = store.frames("fire")[0]
    assert fire["rule"] == "pricing-help"
    cta = log.get_by_role("link", name="See annual pricing")
    assert cta.get_attribute("href") == customer.url("/pricing?billing=annual")
    cta.click()
    page.wait_for_url(customer.url("/pricing?billing=annual"))
    eventually(lambda: outcomes() == ["shown", "clicked"])
