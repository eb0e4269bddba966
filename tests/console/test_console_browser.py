"""The console's usage page in Chromium, signed in as an owner: the charts are drawn by the
bundled library under the page's Content-Security-Policy, laptop and tablet. Screenshots go
to ``/tmp/console-shots/``."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, expect

from console.conftest import OWNER, PASSWORD, Console

pytestmark = pytest.mark.browser

SHOTS = Path("/tmp/console-shots")


@pytest.mark.parametrize(
    ("name", "width", "height"), [("laptop", 1280, 900), ("tablet", 820, 1180)]
)
def test_the_owner_sees_the_day_s_cost_and_the_charts(
    browser: Browser, console: Console, name: str, width: int, height: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        complaints: list[str] = []

        def heard(message: ConsoleMessage) -> None:
            # a refused script or style would say so here (the browser's own favicon request
            # is the only missing resource allowed)
            if message.type in ("error", "warning") and "favicon" not in message.location["url"]:
                complaints.append(f"{message.text} {message.location['url']}")

        page.on("console", heard)
        page.on("pageerror", lambda error: complaints.append(str(error)))
        page.goto(f"{console.server.url}/console/s/{console.acme.public_key}/usage")
        page.get_by_label("Email").fill(OWNER)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Usage and budgets")).to_be_visible()
        expect(page.locator("#today")).to_contain_text("support")
        # each breakdown is drawn: uPlot's canvas with one legend entry per series
        for n, expected in (
            (0, ["sales", "support"]),
            (1, ["claude-sonnet-4-5"]),
            (2, ["chat_answer"]),
        ):
            chart = page.locator(f"#chart-{n}")
            expect(chart.locator("canvas")).to_have_count(1)
            for label in expected:
                expect(chart.locator(".u-legend")).to_contain_text(label)
        SHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SHOTS / f"usage-{name}.png"), full_page=True)
        assert complaints == []
    finally:
        context.close()
