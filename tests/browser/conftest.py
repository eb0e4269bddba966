"""Browser test fixtures: a customer page on another origin, served the widget, and a
scripted visitor server for the chat widget (``chat_server``, ``shop``).

The server, its site, the widget build and Chromium (``widget_dist``,
``browser``, ``context``, ``page``) come from ``tests/conftest.py``; this folder
points the server at the widget build, speeds its clock up, and allows the
customer's origin.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bpract.sites import Site
from browser.fixtures.chat_script import ScriptedChat
from browser.fixtures.customer import CustomerSite
from browser.fixtures.served import Store
from support.server import ServerProcess

REPO = Path(__file__).resolve().parents[2]
TIME_SCALE = "20"


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


@pytest.fixture
def chat_server(widget_dist: Path) -> Iterator[ScriptedChat]:
    """A scripted visitor server (the chat widget's tests line up its replies)."""
    server = ScriptedChat(widget_dist).start()
    yield server
    server.stop()


@pytest.fixture
def shop(customer: CustomerSite, chat_server: ScriptedChat) -> CustomerSite:
    """The customer page on the scripted server, with the fallback engine (no Pyodide start)."""
    customer.widget, customer.site = chat_server.url, "pk_scripted"
    customer.attrs = 'data-engine="server"'
    customer.head = "<script>bpract('on', 'ready', (i) => { window.readyInfo = i; });</script>"
    return customer
