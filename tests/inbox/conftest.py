"""Inbox fixtures: two organisations with a site and agents each, a server, conversations
handed to a person through the real visitor socket, and an agent's HTTP client.

- ``tenants``: a database (one per module) where Acme and Globex each own a site; Acme has
  agents ``ana`` and ``lou`` (the one lockout tests lock out), Globex has ``gus``.
- ``inbox_server``: a server on it (no model keys: the chat answers offline).
- ``ask_for_person(server, site, …)``: a visitor who chats, then asks for a person; the
  conversation id.
- ``AgentClient``: an httpx client that reads forms' CSRF tokens and signs in.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from bpract.inbox import add_agent
from bpract.inbox.passwords import hash_password
from bpract.sites import Site, find_org, user_hash
from bpract.store import Database, transaction
from chat.conftest import ORIGIN, open_chat, start_server
from support.server import ServerProcess
from support.sites import make_site

T = TypeVar("T")

PASSWORD = "correct horse battery"
ANA, LOU, GUS = "ana@acme.test", "lou@acme.test", "gus@globex.test"
XSS = "<img src=x onerror=alert(1)>"
CSRF_FIELD = re.compile(r'name="csrf" value="([^"]+)"')


@dataclass(frozen=True)
class Tenants:
    db: Path
    acme: Site
    globex: Site


def make_agent(
    db_path: Path, org: str, email: str, name: str, password: str = PASSWORD, access: str = "agent"
) -> None:
    """A person of organisation ``org`` (which must exist) in the database at ``db_path``."""
    password_hash = hash_password(password)
    db = Database(db_path)

    def add(conn: Any) -> None:
        with transaction(conn, lock=True):
            found = find_org(conn, org)
            assert found is not None
            add_agent(
                conn, org_id=found.id, email=email, display_name=name,
                password_hash=password_hash, access=access,
            )  # fmt: skip

    try:
        db.run_sync(add)
    finally:
        db.close()


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> Tenants:
    db = tmp_path_factory.mktemp("inbox") / "bpract.db"
    acme = make_site(db, name="Acme shop", origins=[ORIGIN], org="Acme")
    globex = make_site(db, name="Globex store", origins=[ORIGIN], org="Globex")
    make_agent(db, "Acme", ANA, "Ana Acme")
    make_agent(db, "Acme", LOU, "Lou Acme")
    make_agent(db, "Globex", GUS, "Gus Globex")
    return Tenants(db=db, acme=acme, globex=globex)


@pytest.fixture(scope="module")
def inbox_server(tenants: Tenants) -> Iterator[ServerProcess]:
    proc = start_server(tenants.db, {})
    try:
        yield proc
    finally:
        proc.stop()


def identity(site: Site, user_id: str, **traits: Any) -> dict[str, Any]:
    """A verified identity for a hello frame, with ``traits``."""
    return {
        "user_id": user_id,
        "user_hash": user_hash(site.identity_secret, user_id),
        "traits": traits,
    }


async def _ask_for_person(
    server: ServerProcess, site: Site, first: str | None, ask: str, hello: dict[str, Any]
) -> str:
    client, _ = await open_chat(server, site, **hello)
    try:
        if first is not None:
            await client.ask(first)
        reply = await client.ask(ask)
    finally:
        await client.close()
    assert reply.end["kind"] in ("handoff", "ticket"), reply.end  # "ticket": no agent online
    conversation: str = reply.start["conversation"]
    return conversation


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to its end on a thread of its own (a sync Playwright test may hold
    this thread's event loop)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def ask_for_person(
    server: ServerProcess,
    site: Site,
    *,
    first: str | None = "Where is my parcel?",
    ask: str = "I want to talk to a person",
    **hello: Any,
) -> str:
    """A visitor of ``site`` who says ``first``, then asks for a person; the conversation id."""
    return run_async(_ask_for_person(server, site, first, ask, hello))


def csrf_of(page: str) -> str:
    found = CSRF_FIELD.search(page)
    assert found is not None, page
    return found[1]


class AgentClient(httpx.Client):
    """An agent's browser as HTTP: cookies kept, redirects not followed."""

    def __init__(self, server: ServerProcess) -> None:
        super().__init__(base_url=server.url, timeout=30)

    def sign_in_form(self) -> str:
        """Open the sign-in form; its CSRF token."""
        page = self.get("/inbox/sign-in")
        assert page.status_code == 200, page.text
        return csrf_of(page.text)

    def sign_in(self, email: str, password: str = PASSWORD) -> httpx.Response:
        return self.post(
            "/inbox/sign-in",
            data={"csrf": self.sign_in_form(), "email": email, "password": password},
        )

    def signed_in(self, email: str, password: str = PASSWORD) -> AgentClient:
        done = self.sign_in(email, password)
        assert done.status_code == 303 and done.headers["location"] == "/inbox", done.text
        return self

    def page_token(self, path: str = "/inbox") -> str:
        """The CSRF token of the forms on a signed-in page."""
        page = self.get(path)
        assert page.status_code == 200, page.text
        return csrf_of(page.text)
