"""The demo pages in Chromium: GA4 events through a purchase; identify on the account page."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import Browser, Page, async_playwright

from support.chromium import CHROMIUM, CHROMIUM_ARGS

from .conftest import IDENTITY_SECRET, DemoServer

pytestmark = pytest.mark.browser


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as p:
        chromium = await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        await chromium.close()


async def events(page: Page) -> list[dict[str, Any]]:
    layer: list[dict[str, Any]] = await page.evaluate("window.dataLayer")
    return layer


def ga4(layer: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(event, ecommerce) pairs, checking each is preceded by the ``{ecommerce: null}`` reset."""
    out = []
    for i, entry in enumerate(layer):
        if "event" in entry:
            assert layer[i - 1] == {"ecommerce": None}
            out.append((entry["event"], entry["ecommerce"]))
    return out


async def test_add_remove_checkout_push_ga4_events(demo: DemoServer, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(demo.url + "/products/harbour-linen-shirt")
    await page.click('[data-test="add-to-cart"]')
    assert "Choose a size" in await page.inner_text('[data-test="add-status"]')
    await page.check('[data-test="size-M"]')
    await page.click('[data-test="add-to-cart"]')
    await page.check('[data-test="size-L"]')
    await page.click('[data-test="add-to-cart"]')
    pushed = ga4(await events(page))
    assert [e for e, _ in pushed] == ["view_item", "add_to_cart", "add_to_cart"]
    add = pushed[1][1]
    assert add["currency"] == "EUR" and add["value"] == 59
    assert add["items"] == [
        {
            "item_id": "NW-101",
            "item_name": "Harbour Linen Shirt",
            "item_brand": "Northwind Threads",
            "item_category": "Shirts",
            "item_variant": "M",
            "price": 59,
            "quantity": 1,
        }
    ]
    assert await page.inner_text('[data-test="cart-count"]') == "2"

    await page.goto(demo.url + "/cart")
    assert await page.locator('[data-test="cart-line"]').count() == 2
    await page.locator('[data-test="remove-line"]').first.click()
    assert await page.locator('[data-test="cart-line"]').count() == 1
    pushed = ga4(await events(page))
    assert [e for e, _ in pushed] == ["view_cart", "remove_from_cart"]
    assert pushed[1][1]["items"][0]["item_variant"] == "M"

    await page.click('[data-test="checkout"]')
    await page.wait_for_url("**/confirmation")
    pushed = ga4(await events(page))
    assert [e for e, _ in pushed] == ["purchase"]
    purchase = pushed[0][1]
    assert purchase["value"] == 59 and purchase["transaction_id"].startswith("NW-")
    assert [i["item_variant"] for i in purchase["items"]] == ["L"]
    await page.reload()
    assert ga4(await events(page)) == []


async def test_account_page_identifies_the_member(demo: DemoServer, browser: Browser) -> None:
    page = await browser.new_page()
    await page.goto(demo.url + "/account")
    await page.wait_for_function("(window.bpract.q || []).some(a => a[0] === 'identify')")
    calls = await page.evaluate("window.bpract.q.map(a => Array.from(a))")
    _, user_id, traits, user_hash = next(c for c in calls if c[0] == "identify")
    assert user_id == "u_1001" and traits["plan"] == "plus"
    assert user_hash == hmac.new(IDENTITY_SECRET.encode(), b"u_1001", hashlib.sha256).hexdigest()
    await page.wait_for_selector('[data-test="order"]')
    assert await page.locator('[data-test="order"]').count() == 2


async def test_cancel_page_pauses_through_the_api(demo: DemoServer, browser: Browser) -> None:
    page = await browser.new_page(viewport={"width": 390, "height": 844})
    await page.goto(demo.url + "/account/cancel")
    await page.select_option('[data-test="pause-months"]', "2")
    await page.click('[data-test="pause"]')
    await page.wait_for_selector('[data-test="cancel-result"].notice')
    assert "paused until" in await page.inner_text('[data-test="cancel-result"]')
    await page.click('[data-test="pause"]')
    await page.wait_for_selector('[data-test="cancel-result"].notice.error')
    assert "already paused" in await page.inner_text('[data-test="cancel-result"]')
