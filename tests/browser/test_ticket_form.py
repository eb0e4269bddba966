"""The ticket form in Chromium against a scripted visitor server: a ``reply_end`` of kind
``ticket`` shows it under the answer; Send emits one ``ticket`` frame with the address and the
question, the controls lock until the ack, and the ack turns it into the thanks (through the
loader's fallback; the Pyodide engine's path against the real server is test_ticket_roundtrip)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from browser.fixtures.chat_script import Hold, ScriptedChat, Step
from browser.fixtures.customer import CustomerSite
from browser.test_chat_widget import ask
from support.eventually import eventually

pytestmark = pytest.mark.browser

SENTENCE = "No one from the team can answer live right now. Leave your email address."
HOSTILE = "a@b.co<img src=x onerror=window.pwned=1>"


def ticket_reply(reply: str, question: str) -> list[Step]:
    end: dict[str, Any] = {"t": "reply_end", "id": reply, "text": SENTENCE, "citations": []}
    return [
        {"t": "reply_start", "id": reply, "conversation": "c_1", "in_reply_to": 1},
        {"t": "reply_delta", "id": reply, "text": SENTENCE},
        {**end, "kind": "ticket", "offline": False},
    ]


def test_a_ticket_reply_shows_the_form_and_send_emits_one_ticket_then_thanks(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    hold = Hold()
    chat_server.ack_holds["ticket"] = hold
    chat_server.scripts = [ticket_reply]
    page.goto(shop.url("/"))
    log = ask(page, "Can I change the size of my order?")
    form = log.get_by_role("group", name="Leave us a message")
    form.wait_for()
    email = form.get_by_label("Your email address")
    question = form.get_by_label("Your question")
    assert email.get_attribute("type") == "email" and email.get_attribute("autocomplete") == "email"
    assert email.evaluate("e => e.required") and question.evaluate("e => e.required")
    assert question.input_value() == "Can I change the size of my order?"  # the last message
    # under the answer that asked for it
    assert form.evaluate("f => f.previousElementSibling.dataset.role") == "bot"
    send = form.get_by_role("button", name="Send")
    send.click()  # no address: the browser refuses, nothing is sent
    assert chat_server.frames("ticket") == []
    email.fill("ana@example.com")
    question.fill("Can I change the size of my order? It is #1042.")
    send.click()
    eventually(lambda: chat_server.frames("ticket"), what="a ticket frame")
    assert send.is_disabled() and email.is_disabled() and question.is_disabled()
    send.click(force=True)  # locked: a second click sends nothing
    hold.release()
    thanks = form.get_by_role("status")
    thanks.wait_for()
    assert thanks.inner_text() == "Thanks — we will write to you at ana@example.com."
    [frame] = chat_server.frames("ticket")
    assert (frame["email"], frame["text"]) == (
        "ana@example.com", "Can I change the size of my order? It is #1042."
    )  # fmt: skip
    assert isinstance(frame["seq"], int) and isinstance(frame["at"], int)
    assert form.locator("form").count() == 0
    assert page.evaluate("window.readyInfo.engine") == "server"  # the loader's fallback path


def test_the_thanks_is_text_only(shop: CustomerSite, chat_server: ScriptedChat, page: Page) -> None:
    chat_server.scripts = [ticket_reply]
    page.goto(shop.url("/"))
    log = ask(page, "Hello?")
    form = log.get_by_role("group", name="Leave us a message")
    form.wait_for()
    # an address the browser's own check lets through still ends up as text
    form.get_by_label("Your email address").evaluate(
        "(e, v) => { e.type = 'text'; e.value = v; }", HOSTILE
    )
    form.get_by_role("button", name="Send").click()
    form.get_by_role("status").wait_for()
    assert HOSTILE in form.get_by_role("status").inner_text()
    assert form.locator("img").count() == 0
    assert page.evaluate("window.pwned") is None
