"""Action cards in Chromium against a scripted visitor server: what the visitor sees, what one
click sends, and how a result, an expiry or a restored history settles the card.

The real server and the demo API are driven through these cards in tests/e2e/test_demo_actions.py.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from playwright.sync_api import Locator, Page

from browser.fixtures.chat_script import ScriptedChat, Step
from browser.fixtures.customer import CustomerSite
from browser.test_chat_widget import ask
from support.eventually import eventually

pytestmark = pytest.mark.browser

HOSTILE = "<img src=x onerror=window.pwned=1>"


def card(**extra: Any) -> dict[str, Any]:
    frame = {
        "t": "action", "id": "pa_1", "token": "v1.pa_1.sig", "conversation": "c_1",
        "action": "change_plan", "title": "Change your Club plan",
        "text": "Move your Club membership to the plan you choose.",
        "details": [{"label": "Billing", "value": "monthly"}],
        "before": "plus, billed monthly", "after": "",
        "fields": [
            {"name": "plan", "label": "Plan", "kind": "choice", "required": True,
             "choices": ["basic", "premium"], "min": None, "max": None, "max_length": None,
             "value": None},
            {"name": "months", "label": "Months", "kind": "integer", "required": True,
             "choices": [], "min": 1, "max": 3, "max_length": None, "value": 1},
            {"name": "start", "label": "Start on", "kind": "date", "required": False,
             "choices": [], "min": None, "max": None, "max_length": None, "value": None},
            {"name": "note", "label": "Note", "kind": "text", "required": False,
             "choices": [], "min": None, "max": None, "max_length": 20, "value": None},
        ],
        "irreversible": False, "expires_at": int(time.time() * 1000) + 600_000,
    }  # fmt: skip
    return {**frame, **extra}


def proposing(*frames: dict[str, Any]) -> Any:
    """The reply that introduces a card, then the card(s)."""

    def script(reply: str, question: str) -> list[Step]:
        text = "I can do that for you. Please choose below, then confirm."
        return [
            {"t": "reply_start", "id": reply, "conversation": "c_1", "in_reply_to": 1},
            {
                "t": "reply_end",
                "id": reply,
                "text": text,
                "citations": [],
                "kind": "action",
                "offline": True,
            },
            *frames,
        ]

    return script


def shown_card(page: Page, shop: CustomerSite, chat_server: ScriptedChat, *frames: Any) -> Locator:
    chat_server.scripts = [proposing(*(frames or (card(),)))]
    page.goto(shop.url("/account"))
    log = ask(page, "Switch me to another plan")
    found = log.locator(".c")
    found.wait_for()
    return found


def test_a_card_says_what_will_happen_and_asks_for_what_is_left(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    c = shown_card(page, shop, chat_server)
    assert c.get_attribute("role") == "group"
    assert c.get_by_role("group", name="Change your Club plan").count() == 0  # named itself
    assert (
        page.locator("#bpract-chat").get_by_role("group", name="Change your Club plan").count() == 1
    )
    assert "Move your Club membership" in c.inner_text()
    terms = c.locator("dt").all_inner_texts()
    assert terms == ["Billing", "Now"] and c.locator("dd").all_inner_texts() == [
        "monthly", "plus, billed monthly"]  # fmt: skip
    plan = c.get_by_label("Plan", exact=True)
    assert plan.evaluate("e => e.tagName") == "SELECT" and plan.evaluate("e => e.required")
    assert plan.locator("option").all_inner_texts() == ["Choose…", "basic", "premium"]
    months = c.get_by_label("Months", exact=True)
    bounds = [months.get_attribute(name) for name in ("type", "min", "max")]
    assert bounds == ["number", "1", "3"]
    assert months.input_value() == "1"
    assert c.get_by_label("Start on (optional)").get_attribute("type") == "date"
    assert c.get_by_label("Note (optional)").get_attribute("maxlength") == "20"
    assert c.get_by_text("Valid until").is_visible()
    assert c.get_by_text("cannot be undone").count() == 0  # not irreversible
    # the reply that introduces a card is neither a quoted answer nor rated
    intro = page.locator("#bpract-chat .m[data-role=bot]")
    assert intro.get_by_text("Automatic answer").count() == 0
    assert intro.get_by_role("button", name="Helpful").count() == 0


def test_confirm_is_sent_once_with_the_typed_values_and_the_result_settles_the_card(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    c = shown_card(page, shop, chat_server)
    confirm = c.get_by_role("button", name="Confirm")
    confirm.click()  # the plan is still to choose: the form says so, nothing is sent
    assert c.get_by_label("Plan", exact=True).evaluate("e => !e.validity.valid")
    page.wait_for_timeout(300)  # fixed: proves no confirm frame left (nothing to wait for)
    assert chat_server.frames("confirm") == []
    c.get_by_label("Plan", exact=True).select_option("premium")
    c.get_by_label("Months", exact=True).fill("2")
    confirm.dblclick()
    eventually(lambda: chat_server.frames("confirm"))
    assert confirm.is_disabled() and c.get_by_role("button", name="Cancel").is_disabled()
    assert c.get_attribute("aria-busy") == "true"
    page.wait_for_timeout(300)  # fixed: a second frame would have left by now
    [sent] = chat_server.frames("confirm")
    assert sent["token"] == "v1.pa_1.sig"
    assert sent["values"] == {
        "plan": "premium",
        "months": 2,
    }  # a number, empty optional ones left out
    assert isinstance(sent["seq"], int) and chat_server.frames("decline") == []
    chat_server.broadcast({"t": "action_result", "id": "pa_1", "state": "succeeded",
                           "text": "Done — you are now on the premium plan."})  # fmt: skip
    status = c.get_by_role("status")
    status.wait_for()
    assert status.inner_text() == "Done: Done — you are now on the premium plan."
    assert c.get_by_role("button").count() == 0 and c.get_by_text("Valid until").count() == 0
    assert c.get_attribute("aria-busy") is None and c.get_attribute("data-state") == "succeeded"


def test_cancel_sends_one_decline_and_nothing_else(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    c = shown_card(page, shop, chat_server)
    c.get_by_role("button", name="Cancel").click()
    eventually(lambda: chat_server.frames("decline"))
    assert c.get_by_role("button", name="Confirm").is_disabled()
    [sent] = chat_server.frames("decline")
    assert sent["token"] == "v1.pa_1.sig" and chat_server.frames("confirm") == []
    chat_server.broadcast({"t": "action_result", "id": "pa_1", "state": "declined",
                           "text": "Nothing was changed."})  # fmt: skip
    assert c.get_by_role("status").inner_text() == "Cancelled: Nothing was changed."


def test_card_text_is_shown_never_parsed(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    hostile = card(title=HOSTILE, text=HOSTILE, before=HOSTILE, irreversible=True,
                   details=[{"label": HOSTILE, "value": HOSTILE}],
                   fields=[{"name": "x", "label": HOSTILE, "kind": "choice", "required": True,
                            "choices": [HOSTILE], "value": HOSTILE}])  # fmt: skip
    c = shown_card(page, shop, chat_server, hostile)
    assert c.locator("img").count() == 0
    assert c.locator("h3").inner_text() == HOSTILE
    assert c.get_by_text("This cannot be undone.").is_visible()
    assert c.get_by_label(HOSTILE).input_value() == HOSTILE
    chat_server.broadcast({"t": "action_result", "id": "pa_1", "state": "failed", "text": HOSTILE})
    c.get_by_role("status").wait_for()
    assert c.locator("img").count() == 0 and page.evaluate("window.pwned") is None


def test_a_card_sent_again_after_a_reconnect_is_shown_once(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    before = shown_card(page, shop, chat_server).inner_text()
    chat_server.broadcast(card())  # open cards come again after every welcome
    chat_server.broadcast(card(id="pa_2", title="Pause your membership", fields=[]))
    log = page.locator("#bpract-chat [role=log]")
    eventually(lambda: log.locator(".c").count() == 2)
    assert log.locator(".c").all_inner_texts()[0] == before


def test_an_open_card_expires_by_itself_and_confirms_nothing(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    soon = card(expires_at=int(time.time() * 1000) + 1500, fields=[])
    c = shown_card(page, shop, chat_server, soon)
    status = c.get_by_role("status")
    status.wait_for(timeout=10_000)
    assert status.inner_text().startswith("Expired:")
    assert c.get_by_role("button").count() == 0 and chat_server.frames("confirm") == []


def test_a_history_settles_a_card_that_ended_while_the_page_was_away(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    c = shown_card(page, shop, chat_server, card(fields=[]))
    c.get_by_role("button", name="Confirm").click()
    eventually(lambda: chat_server.frames("confirm"))
    # the result was sent while this tab was disconnected; the history carries it, once
    chat_server.broadcast({"t": "history", "conversation": "c_1", "messages": [
        {"id": "ar_pa_1", "role": "bot", "text": "You are now on premium.", "at": 1,
         "citations": []}]})  # fmt: skip
    assert c.get_by_role("status").inner_text() == "You are now on premium."
    log = page.locator("#bpract-chat [role=log]")
    assert log.get_by_text("You are now on premium.").count() == 1
    # a result for a card this page never showed is an answer of its own
    chat_server.broadcast({"t": "action_result", "id": "pa_9", "state": "succeeded",
                           "text": "Order NW-10482 will now arrive on Friday."})  # fmt: skip
    log.get_by_text("Order NW-10482 will now arrive on Friday.").wait_for()
    assert log.locator(".c").count() == 1


def test_the_sentence_follows_the_form(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    frame = card(text="Move your Club membership to the  plan for 1 month(s).",
                 template="Move {{you}} to the {plan} plan for {months} month(s).")  # fmt: skip
    c = shown_card(page, shop, chat_server, frame)
    sentence = c.locator(".t")
    assert sentence.inner_text() == "Move {you} to the … plan for 1 month(s)."
    c.get_by_label("Plan", exact=True).select_option("premium")
    c.get_by_label("Months", exact=True).fill("3")
    assert sentence.inner_text() == "Move {you} to the premium plan for 3 month(s)."
