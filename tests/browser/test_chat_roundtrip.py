"""The chat in Chromium against the real server, offline (no keys), on the demo help centre
ingested with ``bpract kb add``: streamed answers with citations, restore, ratings, "I don't know".
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page

from bpract.demo import stage_help_articles
from bpract.sites import Site
from browser.conftest import REPO
from browser.fixtures.customer import CustomerSite
from browser.fixtures.served import Store
from support.eventually import eventually
from support.server import ServerProcess
from support.sites import make_site

pytestmark = pytest.mark.browser

ENGINE_START = 60.0  # Pyodide start is seconds of CPU; generous for a loaded machine
ANSWER = 30_000.0  # ms: retrieval and the offline answer on a busy machine
NO_KEYS = {
    "ANTHROPIC_API_KEY": "",
    "OPENAI_API_KEY": "",
    "OPENROUTER_API_KEY": "",
    "BPRACT_LLM_BASE_URL": "",
    "BPRACT_LLM_POLICY_DIR": "",
    "BPRACT_EMBEDDINGS_MODEL": "",
}
# Every bot bubble's state at each change of the log: streaming is seen, not assumed.
RECORD = """() => {
  window.chatSnapshots = [];
  const log = document.querySelector('#bpract-chat').shadowRoot.querySelector('[role=log]');
  new MutationObserver(() => {
    for (const b of log.querySelectorAll('.m[data-role=bot]')) {
      chatSnapshots.push({id: b.dataset.id, busy: b.getAttribute('aria-busy') == 'true',
        text: b.querySelector('.t')?.textContent || '', sources: !!b.querySelector('nav')});
    }
  }).observe(log, {subtree: true, childList: true, characterData: true, attributes: true});
}"""
READY = "bpract('on', 'ready', (i) => { window.readyInfo = i; });"


@dataclass(frozen=True)
class HelpCentre:
    shop: CustomerSite
    site: Site
    db: Path


@pytest.fixture(scope="module")
def help_centre(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HelpCentre]:
    """A shop page and a site whose knowledge base is the demo help centre, via the CLI."""
    shop = CustomerSite().start()
    root = tmp_path_factory.mktemp("help-centre")
    db = root / "bpract.db"
    try:
        site = make_site(db, name="Northwind", origins=[shop.origin])
        # the demo serves help/<name>.md at /help/<name>: front matter gives citations that URL
        stage_help_articles(REPO / "demo_site" / "site" / "help", root / "help")
        cmd = [sys.executable, "-m", "bpract", "kb", "add", str(root / "help")]
        cmd += ["--site", site.public_key, "--db", str(db)]
        env = {**os.environ, **NO_KEYS}
        subprocess.run(cmd, check=True, capture_output=True, env=env, timeout=600)
        shop.site = site.public_key
        yield HelpCentre(shop, site, db)
    finally:
        shop.stop()


@pytest.fixture(scope="module")
def help_server(help_centre: HelpCentre, widget_dist: Path) -> Iterator[ServerProcess]:
    # no grace for a hello without its visitor key: only the key brings the history back
    env = {**NO_KEYS, "BPRACT_WIDGET_DIST": str(widget_dist), "BPRACT_CHAT_RATE": "1000",
           "BPRACT_VISITOR_KEY_GRACE": "0"}  # fmt: skip
    proc = ServerProcess(help_centre.db, env=env).start(timeout=60)
    help_centre.shop.widget = proc.url
    try:
        yield proc
    finally:
        proc.stop()


def ready(page: Page, shop: CustomerSite, path: str) -> dict[str, object]:
    page.goto(shop.url(path))
    page.evaluate(READY)
    page.wait_for_function("window.readyInfo", timeout=ENGINE_START * 1000)
    info: dict[str, object] = page.evaluate("window.readyInfo")
    return info


def ask(page: Page, question: str) -> Locator:
    if not page.locator("#bpract-chat [role=dialog]").is_visible():
        page.get_by_role("button", name="Open chat").click()
    box = page.locator("#bpract-chat textarea")
    box.fill(question)
    box.press("Enter")
    return page.locator("#bpract-chat [role=log]")


def transcript(log: Locator) -> list[tuple[str, str]]:
    rows = log.locator(".m").evaluate_all(
        "els => els.map(e => [e.classList.contains('me') ? 'visitor' : e.dataset.role,"
        " e.querySelector('.t')?.innerText ?? e.innerText])"
    )
    return [(role, text) for role, text in rows]


def test_an_answer_streams_then_cites_the_article_and_is_restored_after_a_reload(
    help_centre: HelpCentre, help_server: ServerProcess, page: Page
) -> None:
    shop = help_centre.shop
    shop.attrs = ""
    assert ready(page, shop, "/help")["engine"] == "pyodide"
    page.evaluate(RECORD)
    log = ask(page, "How long can I pause my membership?")
    answer = log.locator(".m[data-role=bot]")
    sources = answer.get_by_role("navigation", name="Sources")
    sources.wait_for(timeout=ANSWER)
    reply = answer.get_attribute("data-id")
    assert reply is not None and reply.startswith("r_")
    final = answer.locator(".t").inner_text()
    assert "three months" in final
    # the text grew while the bubble was busy, before any source was shown
    snapshots = [s for s in page.evaluate("window.chatSnapshots") if s["id"] == reply]
    streaming = [s for s in snapshots if s["busy"] and s["text"]]
    assert streaming and not any(s["sources"] for s in streaming)
    assert snapshots[-1]["busy"] is False and snapshots[-1]["sources"] is True
    # each cited section of the article, numbered as the markers in the text
    names = sources.get_by_role("link").all_inner_texts()
    assert names and all(n.startswith("Pausing your membership") for n in names)
    assert "[1]" in final and sources.locator("li").first.get_attribute("value") == "1"
    link = sources.get_by_role("link").first
    assert link.get_attribute("href") == shop.url("/help/pausing-membership")
    assert link.get_attribute("rel") == "noopener"
    assert answer.locator(".n", has_text="Automatic answer").is_visible()  # offline, and it says so
    # the worker reported the question stored: no longer marked as sending
    eventually(lambda: "s" not in (log.locator(".me").get_attribute("class") or "").split())
    expected = [("visitor", "How long can I pause my membership?"), ("bot", final)]
    assert transcript(log) == expected
    # a thumbs-up is stored against this reply
    answer.get_by_role("button", name="Helpful", exact=True).click()
    store = Store(help_centre.db, help_centre.site.public_key)
    ratings = "SELECT message_id, rating FROM chat_ratings WHERE site_id = ?"
    eventually(lambda: store.rows(ratings, help_centre.site.id) == [(reply, "up")])
    # a reload: the conversation comes back from the server's history, once (the widget
    # kept the visitor key the server gave it, and sent it again)
    kept = stored_ids(page)
    assert kept["key"].startswith("k_") and kept["visitor"].startswith("v_")
    assert ready(page, shop, "/pricing")["engine"] == "pyodide"
    restored = log.locator(f".m[data-id='{reply}'] nav")
    restored.wait_for(state="attached", timeout=ANSWER)
    page.get_by_role("button", name="Open chat").click()
    assert transcript(log) == expected
    assert log.locator("nav a").all_inner_texts() == names
    assert stored_ids(page) == kept


def stored_ids(page: Page) -> dict[str, str]:
    ids: dict[str, str] = page.evaluate(
        "({visitor: localStorage.getItem('bpract:v'), key: localStorage.getItem('bpract:k')})"
    )
    return ids


def test_without_the_engine_the_key_survives_a_reload_and_without_it_history_stays_private(
    help_centre: HelpCentre, help_server: ServerProcess, page: Page
) -> None:
    shop = help_centre.shop
    shop.attrs = 'data-engine="server"'
    assert ready(page, shop, "/")["engine"] == "server"
    log = ask(page, "How do I return an item?")
    log.locator(".m[data-role=bot] nav").wait_for(timeout=ANSWER)
    expected = transcript(log)
    kept = stored_ids(page)
    assert kept["key"].startswith("k_")
    assert ready(page, shop, "/pricing")["engine"] == "server"
    log.locator(".m[data-role=bot] nav").wait_for(state="attached", timeout=ANSWER)
    page.get_by_role("button", name="Open chat").click()
    assert transcript(log) == expected and stored_ids(page) == kept
    # the same visitor id without its key (as anyone who learnt the id would send it)
    page.evaluate("localStorage.removeItem('bpract:k')")
    assert ready(page, shop, "/")["engine"] == "server"
    fresh = eventually(lambda: (ids := stored_ids(page))["key"] and ids, timeout=ANSWER / 1000)
    assert fresh["visitor"] != kept["visitor"] and fresh["key"] != kept["key"]
    log = ask(page, "Which payment methods do you accept?")
    log.locator(".m[data-role=bot] nav").wait_for(timeout=ANSWER)
    after = transcript(log)  # no history came before the new question
    assert len(after) == 2 and after[0] == ("visitor", "Which payment methods do you accept?")


def test_without_the_engine_an_unknown_question_offers_a_person(
    help_centre: HelpCentre, help_server: ServerProcess, page: Page
) -> None:
    shop = help_centre.shop
    shop.attrs = 'data-engine="server"'
    assert ready(page, shop, "/")["engine"] == "server"
    log = ask(page, "Who won the football world cup in 2018?")
    answer = log.locator(".m[data-role=bot]")
    answer.get_by_text("Ask for a person").wait_for(timeout=ANSWER)
    assert "don't know" in answer.locator(".t").inner_text()
    assert answer.get_by_role("navigation").count() == 0
    assert "s" not in (log.locator(".me").get_attribute("class") or "").split()  # stored
    log = ask(page, "How do I return an item?")
    second = log.locator(".m[data-role=bot]").nth(1)
    second.get_by_role("navigation", name="Sources").wait_for(timeout=ANSWER)
    titles = second.get_by_role("navigation").get_by_role("link").all_inner_texts()
    assert any(t.startswith("Returns and exchanges") for t in titles)
