"""Without WebAssembly: raw events over the loader's own socket, and the server's engine fires."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from e2e.records import Records
from e2e.stack import Stack
from e2e.visitor import ENGINE_START, chat_log, wait_ready
from support.eventually import eventually

pytestmark = pytest.mark.browser

CANCEL = "cancel-retention"


def test_cancellation_rule_fires_from_the_server_engine(
    stack: Stack, page: Page, demo_rules: dict[str, dict[str, Any]]
) -> None:
    rule = demo_rules[CANCEL]
    page.add_init_script("delete window.WebAssembly;")
    workers: list[str] = []
    page.on("worker", lambda w: workers.append(w.url))

    page.goto(stack.url("/account/cancel"))
    assert wait_ready(page) == {"engine": "server"}
    visitor = page.evaluate("localStorage.getItem('bpract:v')")
    records = Records(stack.server.db, visitor)
    eventually(lambda: records.signals("page_view"), timeout=20)
    page.goto(stack.url("/account/cancel"))
    assert wait_ready(page) == {"engine": "server"}

    log = chat_log(page)
    log.get_by_text(rule["message"]["text"]).wait_for(timeout=ENGINE_START * 1000)
    assert workers == []
    # the browser sent raw events only; signals and the fire came from the server's engine
    sent = {f["event"]["k"] for f in records.frames("event")}
    assert "page" in sent
    assert records.frames("signal") == [] and records.frames("fire") == []
    views = [v["path"] for v in records.signals("page_view")]
    assert views == ["/account/cancel"] * 2
    fires = records.fires(CANCEL)
    assert [f.status for f in fires] == ["sent"]
    outreach_id = fires[0].outreach_id
    assert outreach_id is not None
    assert records.outreach(outreach_id)["message"] == rule["message"]["text"]

    cta = rule["message"]["cta"]
    log.get_by_role("link", name=cta["label"]).click()
    page.wait_for_url(stack.url(cta["url"]))
    eventually(lambda: records.outcomes(outreach_id) == ["shown", "clicked"], timeout=20)
