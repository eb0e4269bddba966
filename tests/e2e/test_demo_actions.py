"""``bpract demo`` as a visitor uses it: the signed-in member gets a refund, changes plan,
moves a delivery and asks where an order is, through the chat, offline, with no API key.

The demo runs as the README starts it (``python -m bpract demo``, its own data folder);
Chromium drives the store's pages with the Pyodide engine; what happened is read back from
the demo store's own database, the business system the actions call.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sqlite3
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, Page

from e2e.stack import REPO, SERVER_START
from e2e.visitor import chat_log, wait_ready
from support.eventually import eventually
from support.process import Process, answers, free_port

pytestmark = pytest.mark.browser

MAYA = "u_1001"  # the demo's signed-in member
ANSWER = 60_000  # ms: the offline matcher and the call to the demo API, on a busy machine


@dataclass(frozen=True)
class Demo:
    site: str
    api: str
    data: Path

    def rows(self, sql: str, *args: object) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.data / "demo_site.db") as conn:
            return conn.execute(sql, args).fetchall()

    def refunds(self) -> list[tuple[object, ...]]:
        return self.rows("SELECT amount_cents FROM refunds WHERE account_id = ?", MAYA)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    data = tmp_path_factory.mktemp("demo")
    api, site = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}  # no model at all
    argv = [sys.executable, "-m", "bpract", "demo", "--port", str(api), "--site-port", str(site),
            "--data-dir", str(data)]  # fmt: skip
    proc = Process(argv, env=env, cwd=REPO, log_path=data / "demo.log", name="bpract demo")
    store = f"http://127.0.0.1:{site}"
    proc.start(lambda: answers(f"http://127.0.0.1:{api}/health")() and answers(store)(),
               timeout=SERVER_START)  # fmt: skip
    try:
        yield Demo(site=store, api=f"http://127.0.0.1:{api}", data=data)
    finally:
        proc.stop(timeout=20)


def ask(page: Page, text: str) -> Locator:
    """Send ``text`` in the chat; returns the log."""
    log = chat_log(page)
    if not page.locator("#bpract-chat [role=dialog]").is_visible():
        page.get_by_role("button", name="Open chat").click()
    box = page.locator("#bpract-chat textarea")
    box.fill(text)
    box.press("Enter")
    return log


def signed_in(page: Page, demo: Demo) -> None:
    page.goto(demo.site + "/account")
    wait_ready(page)
    page.get_by_text("Hello, Maya").wait_for()


def card(page: Page, demo: Demo, text: str, n: int) -> Locator:
    """Ask for something; the ``n``-th card of the conversation (0-based) once it is shown."""
    found = ask(page, text).locator(".c").nth(n)
    found.wait_for(timeout=ANSWER)
    return found


def settled(c: Locator) -> str:
    status = c.get_by_role("status")
    status.wait_for(timeout=ANSWER)
    return status.inner_text()


def next_weekday(days: int) -> dt.date:
    day = dt.date.today() + dt.timedelta(days=days)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def test_a_refund_happens_once_after_confirm_and_never_after_cancel(page: Page, demo: Demo) -> None:
    signed_in(page, demo)
    asked = "My linen shirt arrived damaged, please refund 12.50 EUR"
    first = card(page, demo, asked, 0)
    assert "Refund 12.50 EUR" in first.inner_text()
    assert first.get_by_text("This cannot be undone.").is_visible()
    first.get_by_role("button", name="Cancel").click()
    assert settled(first).startswith("Cancelled")
    assert demo.refunds() == []
    second = card(page, demo, asked, 1)
    second.get_by_label("Reason (optional)").fill("the seam tore")
    second.get_by_role("button", name="Confirm").dblclick()
    assert settled(second) == "Done: Refunded 12.50 EUR to your card."
    assert demo.refunds() == [(1250,)]
    reason = demo.rows("SELECT reason FROM refunds WHERE account_id = ?", MAYA)
    assert reason == [("the seam tore",)]
    # the next page shows the conversation with the result, and no card to click again
    page.goto(demo.site + "/account")
    wait_ready(page)
    page.get_by_role("button", name="Open chat").click()
    chat_log(page).get_by_text("Refunded 12.50 EUR to your card.").first.wait_for(timeout=ANSWER)
    assert chat_log(page).get_by_role("button", name="Confirm").count() == 0
    assert demo.refunds() == [(1250,)]


def test_a_plan_change_is_chosen_on_the_card(page: Page, demo: Demo) -> None:
    signed_in(page, demo)
    c = card(page, demo, "I want to change my membership plan", 0)
    assert "plus, billed monthly" in c.inner_text()  # what it is now
    plan = c.get_by_label("Plan", exact=True)
    c.get_by_role("button", name="Confirm").click()  # nothing chosen yet: the form says so
    assert plan.evaluate("e => !e.validity.valid")
    plan.select_option("premium")
    c.get_by_label("Billing (optional)").select_option("annual")
    c.get_by_role("button", name="Confirm").click()
    assert settled(c) == "Done: Done — you are now on the premium plan, billed annual."
    assert demo.rows("SELECT plan, billing FROM accounts WHERE id = ?", MAYA) == [
        ("premium", "annual")
    ]


def test_a_delivery_moves_to_the_date_asked_for(page: Page, demo: Demo) -> None:
    (order, before), *_ = demo.rows(
        "SELECT id, delivery_date FROM orders WHERE account_id = ? AND status != 'delivered'", MAYA
    )
    day = next_weekday(3)
    if day.isoformat() == before:
        day = next_weekday(5)
    signed_in(page, demo)
    c = card(page, demo, f"Can my order {order} come on {day.isoformat()} instead?", 0)
    text = c.inner_text()
    assert str(order) in text
    if c.get_by_label("New date").count():  # the matcher may leave the date to the form
        c.get_by_label("New date").fill(day.isoformat())
    else:
        assert day.isoformat() in text
    c.get_by_role("button", name="Confirm").click()
    assert settled(c) == f"Done: Order {order} will now arrive on {day.isoformat()}."
    assert demo.rows("SELECT delivery_date FROM orders WHERE id = ?", order) == [(day.isoformat(),)]


def test_order_status_is_answered_from_the_api_without_a_card(page: Page, demo: Demo) -> None:
    signed_in(page, demo)
    log = ask(page, "Where is my order?")
    answer = log.locator(".m[data-role=bot]", has_text="Here are your orders:")
    answer.wait_for(timeout=ANSWER)
    for order, status in demo.rows("SELECT id, status FROM orders WHERE account_id = ?", MAYA):
        assert f"{order}: {status}" in answer.inner_text()
    assert log.locator(".c").count() == 0


def test_a_visitor_who_is_not_signed_in_is_asked_to_sign_in(page: Page, demo: Demo) -> None:
    page.goto(demo.site + "/help")
    wait_ready(page)
    log = ask(page, "My linen shirt arrived damaged, please refund 12.50 EUR")
    log.locator(".m[data-role=bot]").last.get_by_text("sign in", exact=False).wait_for(
        timeout=ANSWER
    )
    assert log.locator(".c").count() == 0


def printed_agent(demo: Demo) -> tuple[str, str, str]:
    """The inbox's sign-in address and the agent ``bpract demo`` printed at start-up."""
    pattern = re.compile(r"inbox  (\S+)\n\s+agent (\S+)  password (\S+)")
    # printed just after both servers answer, which is when this module's fixture returns
    found = eventually(lambda: pattern.search((demo.data / "demo.log").read_text()), timeout=30)
    sign_in_url, email, password = found.groups()
    assert sign_in_url == demo.api + "/inbox/sign-in"
    return sign_in_url, email, password


def inbox_of(browser: Browser, demo: Demo) -> tuple[BrowserContext, Page]:
    """A second window, the agent's: signed in to the inbox, its live socket open."""
    sign_in_url, email, password = printed_agent(demo)
    agent = browser.new_context()
    inbox = agent.new_page()
    inbox.goto(sign_in_url)
    inbox.get_by_label("Email").fill(email)
    inbox.get_by_label("Password").fill(password)
    inbox.get_by_role("button", name="Sign in").click()
    inbox.locator("body[data-live=on]").wait_for()
    return agent, inbox


def test_the_printed_agent_takes_over_and_they_chat_live(
    page: Page, demo: Demo, browser: Browser
) -> None:
    agent, inbox = inbox_of(browser, demo)
    try:
        page.goto(demo.site + "/")
        wait_ready(page)
        log = ask(page, "I want to talk to a person")
        log.get_by_text("passing this conversation").wait_for(timeout=ANSWER)
        # the queue on the agent's screen shows it without a reload
        waiting = inbox.locator("li.waiting", has_text="I want to talk to a person")
        waiting.wait_for(timeout=ANSWER)
        assert "Northwind Threads (demo)" in inbox.locator("main").inner_text()
        waiting.locator("a").click()
        inbox.get_by_role("button", name="Take over").click()
        log.get_by_text("Sam (Northwind support) joined the conversation").wait_for()
        assert "chatting with Sam" in page.locator("#bpract-chat h2").inner_text()
        # the agent types, then writes; the visitor sees both
        inbox.locator("#reply").press_sequentially("Hello Maya")
        indicator = page.locator("#bpract-chat .ty")
        eventually(indicator.inner_text, equals="Sam (Northwind support) is typing…")
        inbox.locator("#reply").press_sequentially(", I can help with that.")
        inbox.locator("#reply").press("Enter")
        said = log.locator(".m[data-role=agent]", has_text="Hello Maya, I can help with that.")
        said.wait_for()
        eventually(indicator.inner_text, equals="")
        # the visitor types and answers; the agent sees both, the assistant says nothing
        bots = log.locator(".m[data-role=bot]").count()
        box = page.locator("#bpract-chat textarea")
        box.press_sequentially("Where is my order 5001?")
        inbox.locator("#typing", has_text="is typing").wait_for()
        box.press("Enter")
        inbox.locator("li.turn.by-visitor", has_text="Where is my order 5001?").wait_for()
        page.wait_for_timeout(2000)  # time enough for a bot answer that should not come
        assert log.locator(".m[data-role=bot]").count() == bots
        # resolved: the visitor is told the person left
        inbox.get_by_role("button", name="Resolve").click()
        closed = "Sam (Northwind support) closed this conversation."
        log.locator("[data-role=note]", has_text=closed).wait_for()
    finally:
        agent.close()


def test_with_no_agent_online_the_visitor_leaves_an_email_and_the_store_gets_a_ticket(
    page: Page, demo: Demo, browser: Browser
) -> None:
    agent, inbox = inbox_of(browser, demo)
    inbox.get_by_role("button", name="Sign out").click()  # the only agent goes: no one online
    inbox.get_by_role("button", name="Sign in").wait_for()
    agent.close()
    page.goto(demo.site + "/")
    wait_ready(page)
    log = ask(page, "Can I talk to a human?")
    form = log.get_by_role("group", name="Leave us a message")
    form.wait_for(timeout=ANSWER)
    form.get_by_label("Your email address").fill("maya@example.com")
    form.get_by_label("Your question").fill("Do you ship to Norway?")
    form.get_by_role("button", name="Send").click()
    assert form.get_by_role("status").inner_text(timeout=ANSWER) == (
        "Thanks — we will write to you at maya@example.com."
    )

    def received() -> list[str]:
        page.goto(demo.site + "/hooks/tickets")
        return page.locator("td", has_text="Do you ship to Norway?").all_inner_texts()

    eventually(received, equals=["Do you ship to Norway?"], timeout=30)
    assert "maya@example.com" in page.locator("table").inner_text()
    # back in the inbox, the agent finds it among the offline tickets, delivered
    agent, inbox = inbox_of(browser, demo)
    try:
        ticket = inbox.locator("#tickets li.ticket", has_text="Do you ship to Norway?")
        assert "maya@example.com" in ticket.inner_text()
        assert ticket.get_attribute("data-delivery") == "delivered"
    finally:
        agent.close()


def test_the_printed_owner_reads_the_rules_and_the_day_s_cost_in_the_console(
    browser: Browser, demo: Demo
) -> None:
    pattern = re.compile(r"console (\S+)   .*\n\s+owner (\S+)  password (\S+)")
    # printed once both servers answer, which is when this module's fixture returns
    found = eventually(lambda: pattern.search((demo.data / "demo.log").read_text()), timeout=30)
    console_url, email, password = found.groups()
    assert console_url == demo.api + "/console"
    owner = browser.new_context()
    try:
        page = owner.new_page()
        page.goto(console_url)
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_role("heading", name="Sites").wait_for()
        page.get_by_role("link", name="Rules").first.click()
        page.locator('tr[data-rule="pricing-annual-offer"]').wait_for()
        page.get_by_role("link", name="Usage").click()
        page.locator("#today", has_text="Today (").wait_for()
        assert "Whole site" in page.locator("#today").inner_text()
    finally:
        owner.close()
