"""A live conversation with a person, on the visitor's page, against a scripted visitor server:
the person joins, types, writes and leaves; a half-written bot reply is dropped; the visitor's
typing is told to the server. The ``shop`` page runs the loader's fallback (no Pyodide); the
last test takes the same frames through the in-browser engine.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Locator, Page

from browser.fixtures.chat_script import Hold, ScriptedChat, Step
from browser.fixtures.customer import CustomerSite
from support.eventually import eventually

pytestmark = pytest.mark.browser

ANA = "Ana"
EVIL = "<img src=x onerror=window.pwned=1> <b>bold</b>"
T0 = 1_764_000_000_000
ENGINE_START = 60.0  # Pyodide start is seconds of CPU; generous for a loaded machine


def joined(name: str = ANA, at: int = T0) -> dict[str, Any]:
    return {"t": "agent_joined", "conversation": "c_1", "name": name, "at": at}


def left(to: str, name: str = ANA, at: int = T0 + 10) -> dict[str, Any]:
    return {"t": "agent_left", "conversation": "c_1", "name": name, "to": to, "at": at}


def said(text: str, id: str = "am_1", name: str = ANA) -> dict[str, Any]:
    return {"t": "agent_message", "id": id, "conversation": "c_1", "name": name, "text": text,
            "at": T0 + 1}  # fmt: skip


def typing(on: bool, name: str = ANA) -> dict[str, Any]:
    return {"t": "agent_typing", "name": name, "on": on}


def opened(page: Page, shop: CustomerSite, path: str = "/") -> Locator:
    """The page loaded and welcomed, the chat open (its module loaded); returns the log."""
    page.goto(shop.url(path))
    page.wait_for_function("window.readyInfo")
    page.get_by_role("button", name="Open chat").click()
    log = page.locator("#bpract-chat [role=log]")
    page.locator("#bpract-chat .ty").wait_for(state="attached")  # the chat module is mounted
    return log


def agent(log: Locator) -> Locator:
    return log.locator(".m[data-role=agent]")


def notes(log: Locator) -> list[str]:
    return log.locator("[data-role=note]").all_inner_texts()


def test_a_person_joins_writes_as_text_once_and_the_header_says_who(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    log = opened(page, shop)
    person = page.get_by_role("button", name="Talk to a person")
    assert person.is_visible()
    chat_server.broadcast(joined())
    log.get_by_text("Ana joined the conversation").wait_for()
    note = log.locator("[data-role=note]")
    assert note.evaluate("e => getComputedStyle(e).alignSelf") == "center"
    assert page.locator("#bpract-chat h2").inner_text() == "Chat\nYou're chatting with Ana"
    assert page.get_by_role("dialog", name="Chat You're chatting with Ana").is_visible()
    assert person.is_hidden()  # no "Talk to a person" while a person has it
    chat_server.broadcast(said(EVIL))
    message = agent(log)
    message.wait_for()
    assert message.locator(".who").inner_text() == ANA  # named, above the text
    assert message.locator(".t").inner_text() == EVIL  # shown, never parsed
    assert message.locator("img, b").count() == 0
    assert message.locator(".n").count() == 0  # not "Automatic answer"
    assert message.get_by_role("button").count() == 0  # no rating of a person
    assert page.evaluate("window.pwned") is None
    # the same message again (another tab, a resend): one bubble
    chat_server.broadcast(said(EVIL))
    chat_server.broadcast(joined())  # and the same join: one note
    chat_server.broadcast(said("Anything else?", id="am_2"))
    agent(log).nth(1).wait_for()
    assert agent(log).locator(".t").all_inner_texts() == [EVIL, "Anything else?"]
    assert notes(log) == ["Ana joined the conversation"]
    # everything in the log is spoken by screen readers
    assert log.get_attribute("aria-live") == "polite"


def test_a_name_with_markup_is_text(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    log = opened(page, shop)
    name = "<img src=x onerror=window.pwned=3>"
    chat_server.broadcast(joined(name=name))
    chat_server.broadcast(typing(True, name=name))
    chat_server.broadcast(said("Hi", name=name))
    agent(log).wait_for()
    assert agent(log).locator(".who").inner_text() == name
    assert notes(log) == [name + " joined the conversation"]
    assert page.locator("#bpract-chat img").count() == 0
    assert page.evaluate("window.pwned") is None


def test_the_typing_indicator_comes_and_goes(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    log = opened(page, shop)
    indicator = page.locator("#bpract-chat .ty")
    assert indicator.get_attribute("aria-live") == "polite"
    chat_server.broadcast(joined())
    # on, then off
    chat_server.broadcast(typing(True))
    eventually(indicator.inner_text, equals="Ana is typing…")
    chat_server.broadcast(typing(False))
    eventually(indicator.inner_text, equals="")
    # on, then the message itself
    chat_server.broadcast(typing(True))
    eventually(indicator.inner_text, equals="Ana is typing…")
    chat_server.broadcast(said("Here is your tracking number."))
    agent(log).wait_for()
    assert indicator.inner_text() == ""
    # on, then nothing more: gone after 6 s
    chat_server.broadcast(typing(True))
    eventually(indicator.inner_text, equals="Ana is typing…")
    eventually(indicator.inner_text, equals="", timeout=15)


def test_the_visitors_typing_is_sent_once_while_typing_and_off_after_send_or_a_pause(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    opened(page, shop)
    box = page.locator("#bpract-chat textarea")
    box.focus()
    page.keyboard.type("Where is my")  # keys within a second: one "on"
    eventually(lambda: chat_server.frames("typing"), equals=[{"t": "typing", "on": True}])
    page.keyboard.type(" parcel?")
    page.keyboard.press("Enter")
    eventually(lambda: chat_server.frames("message"))
    typed = chat_server.frames("typing")
    assert typed == [{"t": "typing", "on": True}, {"t": "typing", "on": False}]
    assert all(set(f) == {"t", "on"} for f in typed)  # no seq: never acknowledged or resent
    # typing again, then a pause: "off" after 4 s without a key
    page.keyboard.type("Thanks")
    eventually(lambda: len(chat_server.frames("typing")), equals=3)
    eventually(lambda: chat_server.frames("typing")[3:], equals=[{"t": "typing", "on": False}])
    # typing again, then leaving the box: "off" at once
    page.keyboard.type("!")
    eventually(lambda: len(chat_server.frames("typing")), equals=5)
    page.locator("#bpract-chat form button[type=submit]").focus()
    eventually(lambda: chat_server.frames("typing")[5:], equals=[{"t": "typing", "on": False}])
    assert [f["on"] for f in chat_server.frames("typing")] == [True, False] * 3


def test_reply_drop_removes_a_half_written_answer_for_good(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    hold = Hold()

    def script(reply: str, question: str) -> list[Step]:
        return [
            {"t": "reply_start", "id": reply, "conversation": "c_1", "in_reply_to": 1},
            {"t": "reply_delta", "id": reply, "text": "Let me look that"},
            hold,
            {"t": "reply_delta", "id": reply, "text": " up for you."},
            {"t": "reply_end", "id": reply, "text": "Let me look that up for you.",
             "citations": [], "kind": "answer", "offline": False},
        ]  # fmt: skip

    chat_server.scripts = [script]
    log = opened(page, shop)
    box = page.locator("#bpract-chat textarea")
    box.fill("Where is my parcel?")
    box.press("Enter")
    draft = log.locator(".m[data-role=bot]")
    draft.get_by_text("Let me look that").wait_for()
    assert draft.get_attribute("aria-busy") == "true"
    reply = draft.get_attribute("data-id")
    chat_server.broadcast({"t": "reply_drop", "id": reply})
    chat_server.broadcast(joined())
    log.get_by_text("Ana joined the conversation").wait_for()
    assert draft.count() == 0
    assert log.locator("[aria-busy=true]").count() == 0
    hold.release()  # what the bot still had to say comes late: it is not shown
    chat_server.broadcast(said("I'm Ana, I'll look it up."))
    agent(log).wait_for()
    assert draft.count() == 0
    roles = log.locator(".m, .o").evaluate_all("es => es.map(e => e.dataset.role || 'visitor')")
    assert roles == ["visitor", "note", "agent"]


@pytest.mark.parametrize(
    ("to", "text"),
    [
        ("bot", "Ana left. The assistant is back."),
        ("queue", "Ana passed you to a colleague. Someone will answer here."),
        ("resolved", "Ana closed this conversation."),
    ],
)
def test_when_the_person_leaves_the_chat_says_so_and_offers_a_person_again(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page, to: str, text: str
) -> None:
    log = opened(page, shop)
    person = page.get_by_role("button", name="Talk to a person")
    chat_server.broadcast(joined())
    chat_server.broadcast(typing(True))
    log.get_by_text("Ana joined the conversation").wait_for()
    assert person.is_hidden()
    chat_server.broadcast(left(to))
    log.get_by_text(text).wait_for()
    assert notes(log) == ["Ana joined the conversation", text]
    assert person.is_visible() and person.is_enabled()
    assert page.locator("#bpract-chat #t").inner_text() == "Chat"
    assert page.locator("#bpract-chat .ty").inner_text() == ""


def test_history_shows_the_persons_messages_with_their_name(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    chat_server.history = [
        {"id": "m_9", "role": "visitor", "text": "Is anyone there?", "at": T0, "citations": []},
        {"id": "am_9", "role": "agent", "name": ANA, "text": EVIL, "at": T0 + 1, "citations": []},
    ]
    log = opened(page, shop)
    message = agent(log)
    message.wait_for()
    assert message.get_attribute("data-id") == "am_9"
    assert message.locator(".who").inner_text() == ANA
    assert message.locator(".t").inner_text() == EVIL
    assert page.evaluate("window.pwned") is None
    # the same message live afterwards (a frame crossing the history): still one
    chat_server.broadcast(joined())
    chat_server.broadcast(said(EVIL, id="am_9"))
    chat_server.broadcast(said("More?", id="am_10"))
    agent(log).nth(1).wait_for()
    assert agent(log).count() == 2
    # a reconnect sends the history again: nothing doubles, the join note keeps its place
    hellos = len(chat_server.frames("hello"))
    chat_server.drop_connections()
    eventually(lambda: len(chat_server.frames("hello")) > hellos, timeout=15)
    eventually(lambda: chat_server.connections)
    chat_server.broadcast(said("Still there?", id="am_11"))  # after the history, on the new socket
    agent(log).nth(2).wait_for()
    roles = log.locator(".m, .o").evaluate_all("es => es.map(e => e.dataset.id)")
    assert roles == ["m_9", "am_9", f"agent_joined:c_1:{T0}", "am_10", "am_11"]


def test_a_person_arriving_while_the_chat_is_closed_lights_the_launcher(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    page.goto(shop.url("/"))
    page.wait_for_function("window.readyInfo")
    chat_server.broadcast(joined())
    chat_server.broadcast(said("Hello, I'm Ana."))
    page.get_by_role("button", name="Open chat, new message").wait_for()
    page.get_by_role("button", name="Open chat, new message").click()
    log = page.locator("#bpract-chat [role=log]")
    assert agent(log).locator(".t").inner_text() == "Hello, I'm Ana."
    assert notes(log) == ["Ana joined the conversation"]


def test_through_the_engine_a_person_writes_and_the_visitors_typing_goes_out(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    shop.attrs = ""  # the in-browser engine, not the fallback
    page.goto(shop.url("/"))
    page.wait_for_function("window.readyInfo", timeout=ENGINE_START * 1000)
    assert page.evaluate("window.readyInfo.engine") == "pyodide"
    page.get_by_role("button", name="Open chat").click()
    log = page.locator("#bpract-chat [role=log]")
    page.locator("#bpract-chat .ty").wait_for(state="attached")
    chat_server.broadcast(joined())
    chat_server.broadcast(typing(True))
    eventually(lambda: page.locator("#bpract-chat .ty").inner_text(), equals="Ana is typing…")
    chat_server.broadcast(said(EVIL))
    agent(log).wait_for()
    assert agent(log).locator(".t").inner_text() == EVIL
    assert notes(log) == ["Ana joined the conversation"]
    assert page.get_by_role("button", name="Talk to a person").is_hidden()
    page.locator("#bpract-chat textarea").focus()
    page.keyboard.type("Thanks Ana")
    page.keyboard.press("Enter")
    eventually(lambda: chat_server.frames("message"))
    eventually(lambda: [f["on"] for f in chat_server.frames("typing")], equals=[True, False])
    assert page.evaluate("window.pwned") is None
