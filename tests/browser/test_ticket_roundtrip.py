"""A ticket from Chromium through the Pyodide engine to a webhook: outside business hours
"Talk to a person" answers with the form, Send stores the ticket, the webhook receives it
signed, and the form thanks the visitor."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page

from bpract.chat.phrases import phrases
from browser.fixtures.customer import CustomerSite
from browser.test_chat_roundtrip import ENGINE_START, NO_KEYS, ready
from support.eventually import eventually
from support.server import ServerProcess
from support.sites import make_site, make_token
from tickets.conftest import Receiver, receiver, rows
from tickets.test_chat_ticket import _closed_hours

pytestmark = pytest.mark.browser
__all__ = ["receiver"]  # the tickets' webhook receiver fixture, used here


@pytest.fixture
def closed_shop(
    customer: CustomerSite, receiver: Receiver, widget_dist: Path, tmp_path: Path
) -> Iterator[tuple[CustomerSite, ServerProcess]]:
    db = tmp_path / "bpract.db"
    site = make_site(db, name="Shop", origins=[customer.origin])
    token = make_token(db)
    env = {**NO_KEYS, "BPRACT_WIDGET_DIST": str(widget_dist), "BPRACT_CHAT_RATE": "1000",
           "BPRACT_OUTBOUND_ALLOW": receiver.origin, "BPRACT_TICKETS_SWEEP": "0.1"}  # fmt: skip
    server = ServerProcess(db, env=env).start(timeout=60)
    try:
        put = httpx.put(
            f"{server.url}/api/sites/{site.public_key}/ticket-settings",
            json={"webhook_url": receiver.url, "hours": _closed_hours()},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert put.status_code == 200, put.text
        receiver.secret = put.json()["secret"]
        customer.widget, customer.site, customer.attrs = server.url, site.public_key, ""
        yield customer, server
    finally:
        server.stop()


def test_a_ticket_goes_from_the_form_to_the_webhook_through_the_engine(
    closed_shop: tuple[CustomerSite, ServerProcess], receiver: Receiver, page: Page
) -> None:
    shop, server = closed_shop
    assert ready(page, shop, "/")["engine"] == "pyodide"
    page.get_by_role("button", name="Open chat").click()
    page.get_by_role("button", name="Talk to a person").click()
    log = page.locator("#bpract-chat [role=log]")
    answer = log.locator(".m[data-role=bot]")
    answer.get_by_text(phrases("en").ticket).wait_for(timeout=ENGINE_START * 1000)
    form = log.get_by_role("group", name="Leave us a message")
    form.get_by_label("Your email address").fill("ana@example.com")
    form.get_by_label("Your question").fill("Do you ship to Norway?")
    form.get_by_role("button", name="Send").click()
    thanks = form.get_by_role("status")
    thanks.wait_for(timeout=ENGINE_START * 1000)
    assert thanks.inner_text() == "Thanks — we will write to you at ana@example.com."
    eventually(receiver.taken, timeout=30, what="the webhook's delivery")
    [delivery] = receiver.taken()
    assert delivery.signed
    assert (delivery.json["email"], delivery.json["question"]) == (
        "ana@example.com", "Do you ship to Norway?"
    )  # fmt: skip
    [(status,)] = rows(server.db, "SELECT status FROM conversations")
    assert status == "human"  # the conversation waits for the team all the same
