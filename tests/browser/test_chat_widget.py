"""The chat in Chromium against a scripted visitor server: streaming, citations, notes, ratings,
unread dot and restore — every answer arrives exactly as the protocol lets a server send it.
"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Locator, Page

from browser.fixtures.chat_script import Hold, ScriptedChat, Step
from browser.fixtures.customer import CustomerSite
from support.eventually import eventually

pytestmark = pytest.mark.browser

RETURNS = {"n": 1, "title": "Returns policy", "url": "https://help.example/returns", "section": ""}
EVIL = {"n": 2, "title": "Click me", "url": "javascript:window.pwned=2", "section": ""}
MALICIOUS = "Returns are free within 30 days [1]. <img src=x onerror=window.pwned=1> [2]"


def end(reply: str, text: str, **extra: Any) -> dict[str, Any]:
    frame = {"t": "reply_end", "id": reply, "text": text, "citations": [RETURNS]}
    return {**frame, "kind": "answer", "offline": False, **extra}


def streamed(*holds: Hold, text: str = MALICIOUS, **extra: Any) -> Any:
    """start, first half, (holds), second half, end."""

    def script(reply: str, question: str) -> list[Step]:
        half = len(text) // 2
        return [
            {"t": "reply_start", "id": reply, "conversation": "c_1", "in_reply_to": 1},
            {"t": "reply_delta", "id": reply, "text": text[:half]},
            *holds,
            {"t": "reply_delta", "id": reply, "text": text[half:]},
            end(reply, text, **extra),
        ]

    return script


def ask(page: Page, question: str) -> Locator:
    """Open the chat if needed, send ``question``; returns the log."""
    page.wait_for_function("window.readyInfo")
    if not page.locator("#bpract-chat [role=dialog]").is_visible():
        page.get_by_role("button", name="Open chat").click()
    box = page.locator("#bpract-chat textarea")
    box.fill(question)
    box.press("Enter")
    return page.locator("#bpract-chat [role=log]")


def bot(log: Locator) -> Locator:
    return log.locator(".m[data-role=bot]")


def test_a_streamed_answer_is_text_busy_until_the_end_then_cites_its_sources(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    hold = Hold()
    chat_server.scripts = [streamed(hold, offline=True, citations=[RETURNS, EVIL])]
    page.goto(shop.url("/help"))
    log = ask(page, "Can I return a mug?")
    mine = log.locator(".me")
    assert mine.inner_text().startswith("Can I return a mug?")  # shown at once
    eventually(lambda: "s" not in (mine.get_attribute("class") or "").split())  # stored
    answer = bot(log)
    answer.get_by_text("Returns are free within").wait_for()
    # mid-stream: busy (screen readers wait), no sources, no rating yet
    assert answer.get_attribute("aria-busy") == "true"
    assert answer.locator("nav").count() == 0 and answer.get_by_role("button").count() == 0
    hold.release()
    sources = answer.get_by_role("navigation", name="Sources")
    sources.wait_for()
    assert answer.get_attribute("aria-busy") is None
    link = sources.get_by_role("link", name="Returns policy")
    assert link.get_attribute("href") == RETURNS["url"]
    assert link.get_attribute("rel") == "noopener"
    # a javascript: source is named, never linked
    assert sources.get_by_role("link").count() == 1
    assert sources.get_by_role("listitem").nth(1).inner_text() == "Click me"
    # [1] is a superscript link to its source; [2] (no safe source) stays text
    marker = answer.locator("sup a")
    assert marker.inner_text() == "[1]" and marker.get_attribute("href") == RETURNS["url"]
    text = answer.locator(".t").inner_text()
    assert text == MALICIOUS  # the markup is shown, never parsed
    assert answer.locator("img").count() == 0
    assert page.evaluate("window.pwned") is None
    assert answer.locator(".n", has_text="Automatic answer").is_visible()
    assert bot(log).count() == 1


def test_a_reset_discards_the_partial_text_and_unknown_offers_a_person(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    hold = Hold()

    def script(reply: str, question: str) -> list[Step]:
        return [
            {"t": "reply_start", "id": reply, "conversation": "c_1", "in_reply_to": 1},
            {"t": "reply_delta", "id": reply, "text": "The provider said something wr"},
            {"t": "reply_reset", "id": reply},
            hold,
            {"t": "reply_delta", "id": reply, "text": "I don't know that one."},
            end(reply, "I don't know that one.", kind="unknown", citations=[]),
        ]

    chat_server.scripts = [script]
    page.goto(shop.url("/"))
    log = ask(page, "What is the airspeed of a swallow?")
    answer = bot(log)
    answer.wait_for()
    eventually(lambda: answer.locator(".t").inner_text() == "" and chat_server.frames("message"))
    assert answer.get_attribute("aria-busy") == "true"  # the typing indicator again
    hold.release()
    answer.get_by_text("Ask for a person").wait_for()
    assert answer.locator(".t").inner_text() == "I don't know that one."
    assert "wr" not in answer.inner_text().split("know")[0]
    assert answer.get_by_role("navigation").count() == 0  # nothing cited: no sources list
    assert answer.get_by_text("Automatic answer").count() == 0


def test_an_answer_arriving_while_the_panel_is_closed_lights_the_launcher(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    hold = Hold()
    chat_server.scripts = [streamed(hold)]
    page.goto(shop.url("/"))
    log = ask(page, "Returns?")
    bot(log).wait_for()
    page.keyboard.press("Escape")
    launcher = page.get_by_role("button", name="Open chat")
    assert "u" not in (launcher.get_attribute("class") or "").split()
    hold.release()
    lit = page.get_by_role("button", name="Open chat, new message")
    lit.wait_for()
    assert "u" in (lit.get_attribute("class") or "").split()
    lit.click()
    closer = page.locator("#bpract-chat .l")
    assert closer.get_attribute("aria-label") == "Close chat"
    assert "u" not in (closer.get_attribute("class") or "").split()


def test_rating_by_keyboard_sends_one_rate_frame_per_change(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    chat_server.scripts = [streamed()]
    page.goto(shop.url("/"))
    log = ask(page, "Returns?")
    bot(log).get_by_role("navigation", name="Sources").wait_for()
    helpful = log.get_by_role("button", name="Helpful", exact=True)
    unhelpful = log.get_by_role("button", name="Not helpful")
    assert (
        helpful.get_attribute("aria-pressed") == unhelpful.get_attribute("aria-pressed") == "false"
    )
    focused = "document.activeElement?.shadowRoot?.activeElement?.getAttribute('aria-label')"
    page.locator("#bpract-chat .x").focus()  # the panel's first control, then onwards
    for _ in range(8):
        page.keyboard.press("Tab")
        if page.evaluate(focused) == "Helpful":
            break
    assert page.evaluate(focused) == "Helpful"
    page.keyboard.press("Enter")
    assert helpful.get_attribute("aria-pressed") == "true"
    page.keyboard.press("Enter")  # already pressed: nothing new to say
    page.keyboard.press("Tab")
    assert page.evaluate(focused) == "Not helpful"
    page.keyboard.press("Enter")
    assert (helpful.get_attribute("aria-pressed"), unhelpful.get_attribute("aria-pressed")) == (
        "false",
        "true",
    )
    rates = eventually(lambda: len(chat_server.frames("rate")) >= 2 and chat_server.frames("rate"))
    assert [(r["reply"], r["rating"], r["comment"]) for r in rates] == [
        ("r_1", "up", None),
        ("r_1", "down", None),
    ]
    assert all(isinstance(r["seq"], int) for r in rates)
    page.wait_for_timeout(300)  # fixed: proves no third rating is sent (nothing to wait for)
    assert len(chat_server.frames("rate")) == 2


def test_history_restores_the_conversation_after_a_reload_and_a_reconnect_once(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    chat_server.scripts = [streamed(text="Returns are free [1].")]
    page.goto(shop.url("/"))
    log = ask(page, "Returns?")
    bot(log).get_by_role("navigation", name="Sources").wait_for()
    page.goto(shop.url("/pricing"))  # a navigation: a new page, the same tab
    page.wait_for_function("window.readyInfo")
    answer = bot(log)
    answer.locator("nav").wait_for(state="attached")  # restored while the panel is closed
    page.get_by_role("button", name="Open chat").click()

    def transcript() -> list[tuple[str, str]]:
        rows = log.locator(".m").evaluate_all(
            "els => els.map(e => [e.classList.contains('me') ? 'visitor' : e.dataset.role,"
            " e.querySelector('.t')?.innerText ?? e.innerText])"
        )
        return [(role, text) for role, text in rows]

    expected = [("visitor", "Returns?"), ("bot", "Returns are free [1].")]
    assert transcript() == expected
    assert (
        answer.get_by_role("link", name="Returns policy", exact=True).get_attribute("href")
        == RETURNS["url"]
    )
    # a lost connection: the widget reconnects and gets the history again
    hellos = len(chat_server.frames("hello"))
    chat_server.drop_connections()
    eventually(lambda: len(chat_server.frames("hello")) > hellos, timeout=15)
    # the next answer lands after the restored ones, and nothing is doubled
    ask(page, "And exchanges?")
    eventually(lambda: len(transcript()) == 4 and transcript())
    assert transcript()[:2] == expected
    assert transcript()[2:] == [("visitor", "And exchanges?"), ("bot", "Returns are free [1].")]


def test_the_log_follows_an_answer_unless_the_visitor_scrolled_up(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    hold = Hold()
    long = "\n".join(f"Line {i} of a long answer." for i in range(80))
    chat_server.scripts = [streamed(hold, text=long), streamed(hold, text=long)]
    page.goto(shop.url("/"))
    log = ask(page, "Tell me everything")
    bot(log).get_by_text("Line 30").wait_for()
    at_bottom = "l => l.scrollHeight - l.scrollTop - l.clientHeight < 2"
    assert log.evaluate("l => l.scrollHeight > l.clientHeight * 2")  # it does scroll
    eventually(lambda: log.evaluate(at_bottom))  # followed while streaming
    log.evaluate("l => { l.scrollTop = 0; }")  # the visitor goes back up to read
    hold.release()
    bot(log).get_by_role("navigation", name="Sources").wait_for()
    assert log.evaluate("l => l.scrollTop") == 0
    # their own next message brings them back down, and the answer is followed again
    ask(page, "More?")
    bot(log).nth(1).get_by_role("navigation", name="Sources").wait_for()
    assert log.evaluate(at_bottom)


def test_a_chat_module_that_fails_to_load_is_retried_and_nothing_is_lost(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    chat_server.scripts = [streamed()]
    chat_server.missing = {"chat.mjs"}
    shop.head += (
        "<script>bpract('on', 'status', (s) => (window.states ||= []).push(s.state));</script>"
    )
    page.goto(shop.url("/"))
    log = ask(page, "Returns?")
    eventually(lambda: chat_server.frames("message"))
    page.wait_for_function("(window.states || []).includes('chat_unavailable')")
    assert bot(log).count() == 0
    assert log.locator(".me").inner_text().startswith("Returns?")  # the shell still works
    chat_server.missing = set()
    page.keyboard.press("Escape")
    page.get_by_role("button", name="Open chat").click()
    bot(log).get_by_role("navigation", name="Sources").wait_for()  # the queued answer
    assert bot(log).locator(".t").inner_text() == MALICIOUS
    loads = [p for p in chat_server.requested if "/chat.mjs" in p]
    assert loads[0].endswith("/chat.mjs") and loads[-1].endswith("/chat.mjs?" + str(len(loads) - 1))


def test_malformed_chat_frames_are_ignored_and_the_next_answer_renders(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    def script(reply: str, question: str) -> list[Step]:
        garbage: list[Step] = [
            {"t": "reply_delta", "text": "no id"},
            {"t": "reply_start", "id": 5},
            {"t": "reply_end", "id": "", "text": "empty id"},
            {"t": "history", "conversation": "c_1", "messages": "not a list"},
            {"t": "history", "conversation": "c_1", "messages": [None, 3, "x"]},
            {"t": "constructor", "id": "r_0"},
            {"t": "reply_end", "id": "r_odd", "text": "odd", "citations": "nope", "kind": "??"},
        ]
        return garbage + streamed()(reply, question)

    chat_server.scripts = [script]
    page.goto(shop.url("/"))
    log = ask(page, "Returns?")
    bot(log).nth(1).get_by_role("navigation", name="Sources").wait_for()
    assert bot(log).locator(".t").all_inner_texts() == ["odd", MALICIOUS]
    odd = bot(log).first
    assert odd.locator("nav").count() == 0 and odd.locator(".n").count() == 0
    assert log.locator(".m").count() == 3  # the question and the two answers, nothing else


def test_the_chat_module_waits_for_the_chat(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    page.goto(shop.url("/"))
    page.wait_for_function("window.readyInfo")
    page.evaluate("bpract('track', 'browsing', {})")  # frames, acks, no chat
    eventually(lambda: chat_server.frames("event"))
    chat_server.broadcast({"t": "pong"})
    chat_server.broadcast({"t": "rules", "ruleset": {"version": 2, "rules": [], "policy": {}}})
    page.wait_for_timeout(300)  # fixed: proves chat.mjs is not fetched before the chat opens
    assert not [p for p in chat_server.requested if "/chat.mjs" in p]
    page.get_by_role("button", name="Open chat").click()
    eventually(lambda: [p for p in chat_server.requested if "/chat.mjs" in p])


def test_talk_to_a_person_sends_one_handoff_and_shows_the_answer(
    shop: CustomerSite, chat_server: ScriptedChat, page: Page
) -> None:
    handoff = "Of course. I'm passing this conversation to a person on the team."
    hold = Hold()  # the answer waits, so the button is looked at while asked
    chat_server.scripts = [streamed(hold, text=handoff, kind="handoff", citations=[])]
    page.goto(shop.url("/"))
    page.wait_for_function("window.readyInfo")
    page.get_by_role("button", name="Open chat").click()
    person = page.get_by_role("button", name="Talk to a person")
    person.click()
    log = page.locator("#bpract-chat [role=log]")
    bot(log).get_by_text(handoff[: len(handoff) // 2]).wait_for()
    assert person.is_disabled()  # one click, one request
    hold.release()
    bot(log).get_by_text("A person from our team will answer here.").wait_for()
    [sent] = chat_server.frames("handoff")
    assert isinstance(sent["seq"], int) and isinstance(sent["at"], int)
    assert set(sent) == {"t", "seq", "at"}  # nothing the page could phrase
    assert chat_server.frames("message") == []
    assert person.is_enabled()  # answered: it can be asked again
