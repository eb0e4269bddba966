"""Fixtures shared by every test folder: a real server subprocess, a site, an admin token.

- ``db_path``: a fresh SQLite file in ``tmp_path``.
- ``server_env``: extra ``BPRACT_*`` variables for the server; override it in a
  module (``@pytest.fixture def server_env(): return {"BPRACT_TIME_SCALE": "10"}``).
- ``server``: a started :class:`support.server.ServerProcess` on ``db_path``.
- ``site_origins``: origins the ``site`` fixture allows (default
  ``["http://127.0.0.1:8765"]``); override it like ``server_env``.
- ``site``: a :class:`bpract.sites.Site` in ``db_path`` (``public_key``,
  ``identity_secret``, ``allowed_origins``).
- ``admin_token``: a bearer token for ``/api/*`` on ``db_path``.
- ``widget_dist``: the widget built once per session (``widget/dist``).
- ``browser`` (one Chromium per session), ``context`` (a fresh profile per
  test), ``page`` (a tab that fails the test on an uncaught page error).
  One session-wide Playwright: the sync API cannot run two at once.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from bpract.sites import Site
from support.chromium import CHROMIUM, CHROMIUM_ARGS
from support.server import ServerProcess
from support.sites import make_site, make_token

DEFAULT_ORIGIN = "http://127.0.0.1:8765"

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bpract.db"


@pytest.fixture
def server_env() -> dict[str, str]:
    return {}


@pytest.fixture
def server(db_path: Path, server_env: dict[str, str]) -> Iterator[ServerProcess]:
    proc = ServerProcess(db_path, env=server_env)
    proc.start()
    try:
        yield proc
    finally:
        proc.stop()


@pytest.fixture
def site_origins() -> list[str]:
    return [DEFAULT_ORIGIN]


@pytest.fixture
def site(db_path: Path, site_origins: list[str]) -> Site:
    return make_site(db_path, origins=site_origins)


@pytest.fixture
def admin_token(db_path: Path) -> str:
    return make_token(db_path)


@pytest.fixture(scope="session")
def widget_dist() -> Path:
    subprocess.run([sys.executable, str(REPO / "widget" / "build.py")], check=True)
    return REPO / "widget" / "dist"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    # Module scope, not session: sync Playwright runs an event loop on this thread while
    # it lives, and asyncio tests in later modules need the thread free of it.
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
