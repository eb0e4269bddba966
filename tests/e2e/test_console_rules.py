"""The console in Chromium, as a marketer uses it: sign in, write a rule with a mistake, see
it at the field, fix it, preview it, save it — and a visitor already on the demo store gets
it without reloading and it fires. Restoring the earlier version reaches that visitor too
(its engine's socket is sent each version).
Screenshots go to ``/tmp/console-shots/``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, WebSocket, expect

from e2e.stack import Stack, own_stack
from e2e.visitor import ENGINE_START, chat_log, keep_attentive_until, wait_ready
from support.eventually import eventually

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/console-shots")
EMAIL, PASSWORD = "mia@northwind.test", "a marketer's long password"
LAPTOP = {"width": 1280, "height": 900}
TABLET = {"width": 820, "height": 1180}


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory, widget_dist: Path) -> Iterator[Stack]:
    """A stack of its own: the rules it adds must not reach the other tests' visitors."""
    for running in own_stack(tmp_path_factory, widget_dist):
        argv = [sys.executable, "-m", "bpract", "agents", "add", "--db", str(running.server.db),
                "--email", EMAIL, "--name", "Mia (marketing)", "--access", "marketer",
                "--password-stdin"]  # fmt: skip
        subprocess.run(argv, input=PASSWORD, text=True, check=True, capture_output=True)
        yield running


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def sign_in(browser: Browser, shop: Stack, viewport: dict[str, int]) -> Page:
    page = browser.new_context(viewport=viewport).new_page()  # type: ignore[arg-type]
    page.goto(shop.server.url + "/console")
    page.get_by_label("Email").fill(EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sites")).to_be_visible()
    return page


def test_a_marketer_writes_a_rule_and_a_visitor_already_on_the_site_gets_it(
    browser: Browser, page: Page, shop: Stack
) -> None:
    # the visitor is on the help page before the rule exists; what its engine's socket receives
    pushed: list[int] = []

    def on_socket(ws: WebSocket) -> None:
        def received(payload: str | bytes) -> None:
            frame = json.loads(payload)
            if frame.get("t") in ("welcome", "rules"):
                pushed.append(int(frame["ruleset"]["version"]))

        ws.on("framereceived", received)

    page.on("websocket", on_socket)
    page.goto(shop.url("/help"))
    wait_ready(page)

    console = sign_in(browser, shop, LAPTOP)
    shot(console, "sites")
    console.get_by_role("link", name="Rules").first.click()
    shot(console, "rules")
    console.get_by_role("link", name="New rule").click()
    console.get_by_label("Rule id").fill("help-hello")
    console.get_by_label("Name").fill("Say hello on the help page")
    console.get_by_label("When (all must hold)").fill('page: ["/help*"]\nattentiv_seconds: 2')
    console.get_by_label("Message").fill("Need a hand with <b>sizes</b>?")
    console.get_by_label("Button label").fill("Size guide")
    console.get_by_label("Button link").fill("/help")
    console.get_by_label("Holdout (%)").fill("0")
    # the preview follows the message as typed, as text
    preview = console.locator("#pv-m")
    expect(preview).to_contain_text("Need a hand with <b>sizes</b>?")
    expect(preview.get_by_role("link", name="Size guide")).to_be_visible()
    console.get_by_role("button", name="Check").click()
    error = console.locator("#err-when")
    expect(error).to_contain_text("attentive_seconds")
    expect(console.get_by_label("When (all must hold)")).to_have_attribute("aria-invalid", "true")
    shot(console, "rule-error")
    console.get_by_label("When (all must hold)").fill('page: ["/help*"]\nattentive_seconds: 2')
    console.get_by_role("button", name="Check").click()
    expect(console.get_by_text("No problem found")).to_be_visible()
    shot(console, "rule-edit")
    # a backtest over what the store recorded so far (this visitor's page views)
    console.get_by_role("button", name="Backtest").click()
    expect(console.locator("#backtest")).to_contain_text("It would have fired for")
    expect(console.locator("#backtest")).to_contain_text("1 visitor, 1 session recorded")
    shot(console, "rule-backtest")
    console.get_by_role("button", name="Save").click()
    expect(console.get_by_text("Saved.")).to_be_visible()
    expect(console.locator('tr[data-rule="help-hello"]')).to_contain_text("Live")

    # no reload: the engine got the new ruleset over its socket and fires on attention
    message = chat_log(page).get_by_text("Need a hand with <b>sizes</b>?")
    keep_attentive_until(page, message.is_visible, timeout=ENGINE_START)

    # a change, then restoring the first version: connected visitors get each version
    console.locator('tr[data-rule="help-hello"] a', has_text="help-hello").click()
    console.get_by_label("Message").fill("A second message")
    console.get_by_role("button", name="Save").click()
    expect(console.get_by_text("Saved.")).to_be_visible()
    console.locator('tr[data-rule="help-hello"]').get_by_role("link", name="History").click()
    expect(console.locator("li.version")).to_have_count(2)
    shot(console, "rule-history")
    console.get_by_role("button", name="Restore version").click()
    expect(console.get_by_text("Restored as a new version.")).to_be_visible()
    expect(console.locator("li.version")).to_have_count(3)
    edit = console.get_by_role("link", name="Edit")
    edit.click()
    expect(console.get_by_label("Message")).to_have_value("Need a hand with <b>sizes</b>?")
    # the visitor's engine was sent each version as it was saved, the restored one last
    history = console.evaluate("fetch(location.pathname + '/history').then((r) => r.text())")
    current = int(history.split("Ruleset version ", 1)[1].split(" ", 1)[0])
    eventually(lambda: pushed[-3:], equals=[current - 2, current - 1, current], timeout=20)

    # its results so far: the fire sent to the visitor, assigned to the rule (no holdout)
    console.get_by_role("link", name="Performance").click()
    card = console.locator('section.rule-perf[data-rule="help-hello"]')
    expect(card).to_contain_text("1 sent")
    expect(card).to_contain_text("0 of 1")
    shot(console, "performance")

    # the tablet width keeps every field reachable
    tablet = sign_in(browser, shop, TABLET)
    tablet.goto(console.url)
    shot(tablet, "rule-edit-tablet")
