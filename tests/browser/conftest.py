"""Browser test fixtures: the widget build, a customer page on another origin, Chromium.

The server and its site come from ``tests/conftest.py``; this folder points the
server at the widget build, speeds its clock up, and allows the customer's origin.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from bpract.sites import Site
from browser.fixtures.customer import CustomerSite
from browser.fixtures.served import Store
from support.server import ServerProcess

REPO = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIME_SCALE = "20"


@pytest.fixture(scope="session")
def widget_dist() -> Path:
    subprocess.run([sys.executable, str(REPO / "widget" / "build.py")], check=True)
    return REPO / "widget" / "dist"


@pytest.fixture
def customer() -> Iterator[CustomerSite]:
    page_server = CustomerSite().start()
    yield page_server
    page_server.stop()


@pytest.fixture
def site_origins(customer: CustomerSite) -> list[str]:
    return [customer.origin]


@pytest.fixture
def server_env(widget_dist: Path) -> dict[str, str]:
    return {"BPRACT_WIDGET_DIST": str(widget_dist), "BPRACT_TIME_SCALE": TIME_SCALE}


@pytest.fixture
def store(server: ServerProcess, site: Site, customer: CustomerSite) -> Store:
    """The running server with the customer page wired to it, seen through its database."""
    customer.widget, customer.site = server.url, site.public_key
    return Store(server.db, site.public_key)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1024, "height": 700})
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    errors: list[str] = []
    tab = context.new_page()
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    assert not errors, f"uncaught errors on the page: {errors}"
