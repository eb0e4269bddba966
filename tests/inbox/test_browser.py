"""The inbox in Chromium, as an agent uses it: sign in, see who waits, read the transcript;
and the ways in that must fail. Screenshots go to ``/tmp/inbox-shots/``."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Dialog, Page, expect

from bpract.sites import Site
from chat.conftest import open_chat, start_server
from inbox.conftest import (
    ANA,
    GUS,
    LOU,
    PASSWORD,
    XSS,
    Tenants,
    ask_for_person,
    identity,
    run_async,
)
from support.server import ServerProcess

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/inbox-shots")
LAPTOP = {"width": 1280, "height": 800}
TABLET = {"width": 768, "height": 1024}
CONTEXT_TABLET = {"width": 820, "height": 1180}


#: What the first visitor does before asking: pages (one titled with markup) and a dwell.
BROWSING = [
    ("page_view", {"path": "/", "url": "https://shop.test/", "title": "Home", "nav": "load"}),
    ("page_view", {"path": "/pricing", "url": "https://shop.test/pricing",
                   "title": f"Pricing {XSS}", "nav": "load"}),
    ("dwell", {"path": "/pricing", "seconds": 40}),
]  # fmt: skip


async def _browse_then_ask(
    server: ServerProcess, site: Site, first: str, hello: dict[str, Any]
) -> str:
    """A visitor who views pages (real signal frames), says ``first``, then asks for a person."""
    client, _ = await open_chat(server, site, **hello)
    try:
        at = int(time.time() * 1000) - 120_000
        for seq, (name, data) in enumerate(BROWSING, 1):
            signal = {"t": "signal", "seq": seq, "at": at + seq * 1000, "session": "n_browse"}
            await client.send({**signal, "name": name, "data": data})
        await client.acks(len(BROWSING))
        client.seq = len(BROWSING)
        await client.ask(first)
        reply = await client.ask("I want to talk to a person")
    finally:
        await client.close()
    assert reply.end["kind"] in ("handoff", "ticket"), reply.end  # "ticket": no agent online
    conversation: str = reply.start["conversation"]
    return conversation


@pytest.fixture(scope="module", autouse=True)
def shots() -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    return SHOTS


def _no_dialogs(page: Page) -> list[str]:
    """Fail on any alert: an escaped ``onerror=alert(1)`` never runs."""
    opened: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", dismiss)
    return opened


def sign_in(page: Page, server: ServerProcess, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{server.url}/inbox")
    expect(page).to_have_url(f"{server.url}/inbox/sign-in")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


@pytest.fixture
def tablet(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport=TABLET, device_scale_factor=1, has_touch=True)
    yield ctx
    ctx.close()


def test_an_agent_signs_in_sees_the_queue_and_reads_the_transcript(
    page: Page, tablet: BrowserContext, inbox_server: ServerProcess, tenants: Tenants
) -> None:
    someone = identity(tenants.acme, "u_42", name=XSS, email="maya@example.com", plan="Club")
    said = f"My order {XSS} never came <b>!</b>"
    first = run_async(_browse_then_ask(inbox_server, tenants.acme, said, {"identity": someone}))
    second = ask_for_person(inbox_server, tenants.acme, first=None, ask="can I talk to a human")
    alerts = _no_dialogs(page)
    page.set_viewport_size(LAPTOP)
    page.goto(f"{inbox_server.url}/inbox/sign-in")
    page.screenshot(path=SHOTS / "sign-in-laptop.png")
    sign_in(page, inbox_server, ANA)

    expect(page).to_have_url(f"{inbox_server.url}/inbox")
    expect(page.get_by_role("heading", name="Waiting")).to_be_visible()
    items = page.locator("li.waiting")
    expect(items).to_have_count(2)
    expect(items.nth(0).locator(".visitor")).to_have_text(XSS)  # oldest first, shown as text
    expect(items.nth(0).locator(".wait")).to_contain_text("waiting")
    expect(items.nth(0).locator(".preview")).to_have_text("I want to talk to a person")
    expect(items.nth(1).locator(".preview")).to_have_text("can I talk to a human")
    assert page.locator("main img").count() == 0
    page.screenshot(path=SHOTS / "queue-laptop.png", full_page=True)

    items.nth(0).locator("a").click()
    expect(page).to_have_url(f"{inbox_server.url}/inbox/c/{first}")
    turns = page.locator("li.turn")
    expect(turns).to_have_count(4)
    expect(turns.nth(0)).to_contain_text(f"My order {XSS} never came <b>!</b>")
    expect(turns.nth(1).locator(".from")).to_contain_text("Bot")
    expect(turns.nth(2)).to_contain_text("I want to talk to a person")
    expect(turns.nth(0).locator(".from")).to_contain_text(XSS)
    expect(page.locator("aside")).to_contain_text("u_42")
    expect(page.locator("aside")).to_contain_text("maya@example.com")
    assert page.locator("main img, main b").count() == 0
    page.screenshot(path=SHOTS / "conversation-laptop.png", full_page=True)
    # the context panel: a right column beside the transcript on a laptop, below it on a tablet
    panel = page.locator("aside.context")
    expect(panel).to_be_visible()
    for section in ("Visitor", "Journey", "Signals", "Rules fired", "Actions"):
        expect(panel.get_by_role("heading", name=section)).to_be_visible()
    expect(panel.locator(".badge")).to_have_text("verified")
    expect(panel.locator("section", has_text="Journey").locator("li")).to_have_count(2)
    expect(panel).to_contain_text(f"Pricing {XSS}")  # the title as text, never markup
    expect(panel).to_contain_text("40 s on /pricing")
    beside, column = page.locator("section.transcript").bounding_box(), panel.bounding_box()
    assert beside is not None and column is not None and column["x"] > beside["x"] + beside["width"]
    page.screenshot(path=SHOTS / "context.png")
    assert alerts == []

    # the same agent on a tablet: the page fits the width, the visitor panel below
    tab = tablet.new_page()
    tab.context.add_cookies(page.context.cookies())
    tab.goto(f"{inbox_server.url}/inbox")
    expect(tab.locator("li.waiting")).to_have_count(2)
    tab.screenshot(path=SHOTS / "queue-tablet.png", full_page=True)
    tab.goto(f"{inbox_server.url}/inbox/c/{second}")
    expect(tab.locator("li.turn")).to_have_count(2)
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= TABLET["width"], width
    transcript, aside = (
        tab.locator("section.transcript").bounding_box(),
        tab.locator("aside").bounding_box(),
    )
    assert transcript is not None and aside is not None and aside["y"] > transcript["y"]
    tab.screenshot(path=SHOTS / "conversation-tablet.png", full_page=True)
    tab.set_viewport_size(CONTEXT_TABLET)
    tab.goto(f"{inbox_server.url}/inbox/c/{first}")
    expect(tab.locator("aside.context")).to_be_visible()
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= CONTEXT_TABLET["width"], width
    tab.screenshot(path=SHOTS / "context-tablet.png", full_page=True)


def test_a_wrong_password_keeps_the_agent_out(page: Page, inbox_server: ServerProcess) -> None:
    sign_in(page, inbox_server, ANA, "not the password")
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    expect(page.get_by_label("Email")).to_have_value(ANA)
    page.screenshot(path=SHOTS / "wrong-password.png")
    page.goto(f"{inbox_server.url}/inbox")
    expect(page).to_have_url(f"{inbox_server.url}/inbox/sign-in")


def test_a_form_without_its_csrf_token_is_refused(page: Page, inbox_server: ServerProcess) -> None:
    page.goto(f"{inbox_server.url}/inbox/sign-in")
    page.locator("input[name=csrf]").evaluate("field => field.remove()")
    page.get_by_label("Email").fill(ANA)
    page.get_by_label("Password").fill(PASSWORD)
    with page.expect_response(f"{inbox_server.url}/inbox/sign-in") as posted:
        page.get_by_role("button", name="Sign in").click()
    assert posted.value.status == 403
    expect(page.get_by_role("heading", name="Refused")).to_be_visible()
    page.screenshot(path=SHOTS / "csrf-refused.png")
    page.goto(f"{inbox_server.url}/inbox")
    expect(page).to_have_url(f"{inbox_server.url}/inbox/sign-in")  # not signed in


def test_five_failures_lock_the_address_out(page: Page, inbox_server: ServerProcess) -> None:
    for attempt in range(5):
        sign_in(page, inbox_server, LOU, f"wrong password {attempt}")
        expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    sign_in(page, inbox_server, LOU)
    expect(page.get_by_role("alert")).to_contain_text("Too many failed sign-ins")
    page.screenshot(path=SHOTS / "locked-out.png")
    page.goto(f"{inbox_server.url}/inbox")
    expect(page).to_have_url(f"{inbox_server.url}/inbox/sign-in")


def test_another_organisations_agent_sees_nothing_of_it(
    page: Page, inbox_server: ServerProcess, tenants: Tenants
) -> None:
    theirs = ask_for_person(inbox_server, tenants.acme)
    sign_in(page, inbox_server, GUS)
    expect(page.get_by_text("No one is waiting for a person.")).to_be_visible()
    response = page.goto(f"{inbox_server.url}/inbox/c/{theirs}")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", name="Not found")).to_be_visible()
    page.screenshot(path=SHOTS / "other-org-404.png")


def test_signing_out_ends_the_session_on_the_server(
    page: Page, browser: Browser, inbox_server: ServerProcess
) -> None:
    sign_in(page, inbox_server, ANA)
    expect(page.get_by_role("heading", name="Waiting")).to_be_visible()
    kept = page.context.cookies()
    assert [c["name"] for c in kept] == ["bpract_inbox"]
    assert kept[0]["httpOnly"] and kept[0]["sameSite"] == "Strict" and kept[0]["path"] == "/"
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(f"{inbox_server.url}/inbox/sign-in")
    replay = browser.new_context()
    try:
        replay.add_cookies(kept)  # the old cookie, replayed
        tab = replay.new_page()
        tab.goto(f"{inbox_server.url}/inbox")
        expect(tab).to_have_url(f"{inbox_server.url}/inbox/sign-in?ended=1")
        expect(tab.get_by_role("alert")).to_have_text("Your session has ended. Sign in again.")
    finally:
        replay.close()


@pytest.fixture(scope="module")
def short_sessions(tenants: Tenants) -> Iterator[ServerProcess]:
    proc = start_server(tenants.db, {"BPRACT_INBOX_IDLE": "2"})
    try:
        yield proc
    finally:
        proc.stop()


def test_an_expired_session_goes_back_to_sign_in(page: Page, short_sessions: ServerProcess) -> None:
    sign_in(page, short_sessions, ANA)
    expect(page.get_by_role("heading", name="Waiting")).to_be_visible()
    page.wait_for_timeout(2500)  # longer than the idle timeout, on purpose
    page.get_by_role("link", name="Refresh").click()
    expect(page).to_have_url(f"{short_sessions.url}/inbox/sign-in?ended=1")
    expect(page.get_by_role("alert")).to_have_text("Your session has ended. Sign in again.")
    page.screenshot(path=SHOTS / "session-ended.png")
