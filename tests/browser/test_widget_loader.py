"""The loader on a customer's page: command queue, dataLayer and the chat by keyboard."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from browser.fixtures.customer import CustomerSite
from browser.fixtures.served import Store
from support.eventually import eventually

pytestmark = pytest.mark.browser

SERVER_ENGINE = 'data-engine="server"'
UI_KEYS = ("chat_open", "field_focus")


def test_queue_replays_calls_made_before_load(
    customer: CustomerSite, store: Store, page: Page
) -> None:
    customer.attrs = SERVER_ENGINE
    customer.head = """<script>
      bpract('track', 'early_bird', {plan: 'pro'});
      bpract('on', 'ready', (info) => { window.readyInfo = info; });
    </script>"""
    page.goto(customer.url("/start"))
    eventually(lambda: page.evaluate("window.readyInfo"))
    assert page.evaluate("typeof bpract.q") == "undefined"  # replaced by the real function
    page.evaluate("bpract('track', 'late', {n: 2})")
    tracks = eventually(lambda: len(store.events("track")) >= 2 and store.events("track"))
    assert [(t["name"], t["props"]) for t in tracks] == [
        ("early_bird", {"plan": "pro"}),
        ("late", {"n": 2}),
    ]
    assert page.evaluate("window.readyInfo") == {"engine": "server"}


def test_datalayer_pushes_before_and_after_load_arrive_unchanged(
    customer: CustomerSite, store: Store, page: Page
) -> None:
    customer.attrs = SERVER_ENGINE
    customer.head = """<script>
      dataLayer.push({event: 'add_to_cart', ecommerce: {currency: 'EUR', value: 30,
        items: [{item_id: 'sku-1', item_name: 'Mug', price: 15, quantity: 2}]}});
      dataLayer.push({event: 'gtm.js'});
    </script>"""
    page.goto(customer.url("/cart"))
    eventually(lambda: page.evaluate("typeof bpract.q") == "undefined")
    # the site's own push keeps Array semantics: returns the new length, stores the item
    length = page.evaluate("dataLayer.push({event: 'remove_from_cart', ecommerce: {items: []}})")
    assert length == page.evaluate("dataLayer.length") == 3
    # gtag() arguments form
    page.evaluate("gtag('event', 'begin_checkout', {value: 12.5, currency: 'EUR', items: []})")
    # a tag manager replacing push later keeps its own return value and is read once
    page.evaluate("""() => {
      const older = dataLayer.push;
      window.gtmCalls = 0;
      dataLayer.push = function () {
        window.gtmCalls++;
        older.apply(dataLayer, arguments);
        return 'gtm';
      };
    }""")
    purchase = "dataLayer.push({event: 'purchase', ecommerce: {value: 9, currency: 'EUR'}})"
    assert page.evaluate(purchase) == "gtm"
    assert page.evaluate("window.gtmCalls") == 1
    assert page.evaluate("dataLayer.length") == 5

    def names() -> list[str]:
        return [e["name"] for e in store.events("ecom")]

    eventually(lambda: len(names()) >= 4)
    assert names() == ["add_to_cart", "remove_from_cart", "begin_checkout", "purchase"]
    first = store.events("ecom")[0]
    assert first["items"] == [{"id": "sku-1", "name": "Mug", "price": 15, "qty": 2}]
    assert (first["value"], first["currency"]) == (30, "EUR")


def test_keyboard_reaches_opens_and_closes_the_chat(
    customer: CustomerSite, store: Store, page: Page
) -> None:
    customer.attrs = SERVER_ENGINE
    page.goto(customer.url("/"))
    page.wait_for_function("document.querySelector('#bpract-chat')")
    focused = "document.activeElement?.shadowRoot?.activeElement?.getAttribute('aria-label')"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate(focused) == "Open chat":
            break
    assert page.evaluate(focused) == "Open chat"
    page.keyboard.press("Enter")
    panel = page.locator("#bpract-chat [role=dialog]")
    assert panel.is_visible()
    assert panel.get_attribute("aria-modal") == "false"
    assert page.evaluate("document.activeElement.shadowRoot.activeElement.id") == "r"
    page.keyboard.press("Escape")
    assert not panel.is_visible()
    assert page.evaluate(focused) == "Open chat"

    # tabbing through the email field and the chat's open and close reach the engine
    def ui() -> list[tuple[str, bool]]:
        return [(k, v) for e in store.events("ui") for k, v in e.items() if k in UI_KEYS]

    eventually(lambda: ("chat_open", False) in ui())
    assert ui() == [
        ("field_focus", True),
        ("field_focus", False),
        ("chat_open", True),
        ("chat_open", False),
    ]


def test_chat_is_a_full_width_sheet_on_a_phone_and_host_css_stays_out(
    customer: CustomerSite, store: Store, page: Page
) -> None:
    customer.attrs = SERVER_ENGINE
    customer.head = """<script>
      window.seen = [];
      bpract('on', 'open', () => seen.push('open'));
      bpract('on', 'close', () => seen.push('close'));
    </script>"""
    page.set_viewport_size({"width": 400, "height": 700})
    page.goto(customer.url("/"))
    launcher = page.get_by_role("button", name="Open chat")
    box = launcher.bounding_box()
    assert box is not None and box["width"] >= 44 and box["height"] >= 44
    style = "(el) => [getComputedStyle(el).fontFamily, getComputedStyle(el).backgroundColor]"
    font, background = launcher.evaluate(style)
    assert "Georgia" not in font and background != "rgb(255, 105, 180)"  # the host's hotpink
    page.evaluate("bpract('open')")
    sheet = page.locator("#bpract-chat [role=dialog]").bounding_box()
    assert sheet is not None
    assert (sheet["x"], sheet["width"], sheet["y"] + sheet["height"]) == (0, 400, 700)
    page.evaluate("bpract('close')")
    assert page.evaluate("window.seen") == ["open", "close"]


def test_sensors_report_clicks_scroll_depth_and_exit_intent(
    customer: CustomerSite, store: Store, page: Page
) -> None:
    customer.attrs = SERVER_ENGINE
    page.goto(customer.url("/"))
    page.wait_for_function("typeof bpract.q == 'undefined'")
    page.locator("#email").click()
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    leave = "new MouseEvent('mouseout', {clientX: 300, clientY: -2, bubbles: true})"
    page.evaluate(f"document.documentElement.dispatchEvent({leave})")
    page.evaluate(f"document.documentElement.dispatchEvent({leave})")  # within 5 s: not again
    eventually(lambda: store.events("exit") and store.events("scroll"))
    (click,) = store.events("click")
    assert click["target"] == "input#email" and click["x"] > 0 and click["y"] > 0
    assert store.events("scroll")[-1]["pct"] == 100
    assert len(store.events("exit")) == 1
