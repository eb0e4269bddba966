"""The inbox over HTTP against a real server: cookies, CSRF, sign-in failures and lockout,
sessions ended server-side, tenancy, escaping."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Iterator

import pytest

from chat.conftest import open_chat, rows, start_server
from inbox.conftest import (
    ANA,
    GUS,
    LOU,
    PASSWORD,
    XSS,
    AgentClient,
    Tenants,
    ask_for_person,
    csrf_of,
    identity,
)
from inbox.live import AgentSocket
from support.server import ServerProcess


@pytest.fixture
def agent(inbox_server: ServerProcess) -> Iterator[AgentClient]:
    with AgentClient(inbox_server) as client:
        yield client


def _set_cookie(response: object, name: str) -> str:
    headers = getattr(response, "headers")  # noqa: B009 - httpx headers, several Set-Cookie
    found = [h for h in headers.get_list("set-cookie") if h.startswith(f"{name}=")]
    assert len(found) == 1, headers
    return str(found[0])


def _attributes(header: str) -> set[str]:
    return {part.strip().lower() for part in header.split(";")[1:]}


def _notice(page: str) -> str:
    return page.split('role="alert">', 1)[1].split("</p>", 1)[0]


def _counts(tenants: Tenants) -> tuple[int, int]:
    sessions = rows(tenants.db, "SELECT count(*) FROM inbox_sessions")[0][0]
    failures = rows(tenants.db, "SELECT count(*) FROM inbox_sign_in_failures")[0][0]
    return int(sessions), int(failures)


def test_pages_need_a_session(agent: AgentClient) -> None:
    for path in ("/inbox", "/inbox/c/c_anything"):
        page = agent.get(path)
        assert (page.status_code, page.headers["location"]) == (303, "/inbox/sign-in")


def test_cookies_are_http_only_strict_and_scoped_to_the_inbox(agent: AgentClient) -> None:
    form = agent.get("/inbox/sign-in")
    pre = _attributes(_set_cookie(form, "bpract_inbox_sign_in"))
    assert {"httponly", "samesite=strict", "path=/"} <= pre and "secure" not in pre
    policy = form.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "connect-src 'self';" in policy  # inbox.js only
    assert form.headers["cache-control"] == "no-store"
    signed = agent.post(
        "/inbox/sign-in", data={"csrf": csrf_of(form.text), "email": ANA, "password": PASSWORD}
    )
    assert signed.status_code == 303
    session = _attributes(_set_cookie(signed, "bpract_inbox"))
    assert {"httponly", "samesite=strict", "path=/"} <= session and "secure" not in session
    assert not any(a.startswith(("max-age", "expires")) for a in session)  # ends with the browser


def test_cookies_are_secure_when_the_public_url_is_https(tenants: Tenants) -> None:
    server = start_server(tenants.db, {"BPRACT_PUBLIC_URL": "https://inbox.example"})
    try:
        with AgentClient(server) as client:
            form = client.get("/inbox/sign-in")
            pre = _set_cookie(form, "bpract_inbox_sign_in")
            assert "secure" in _attributes(pre)
            # httpx keeps a Secure cookie from plain http: the browser's request, by hand
            signed = client.post(
                "/inbox/sign-in",
                data={"csrf": csrf_of(form.text), "email": ANA, "password": PASSWORD},
                headers={"cookie": pre.split(";", 1)[0]},
            )
            assert signed.status_code == 303, signed.text
            assert "secure" in _attributes(_set_cookie(signed, "bpract_inbox"))
    finally:
        server.stop()


def test_a_post_without_the_right_csrf_token_is_refused_and_changes_nothing(
    agent: AgentClient, tenants: Tenants, inbox_server: ServerProcess
) -> None:
    token = agent.sign_in_form()
    before = _counts(tenants)
    with AgentClient(inbox_server) as stranger:
        stranger_token = stranger.sign_in_form()  # a valid token, bound to another cookie
    for given in ({}, {"csrf": ""}, {"csrf": token[:-2] + "xx"}, {"csrf": stranger_token}):
        refused = agent.post("/inbox/sign-in", data={**given, "email": ANA, "password": PASSWORD})
        assert refused.status_code == 403 and "did not come from the inbox" in refused.text
        assert "bpract_inbox=" not in refused.headers.get("set-cookie", "")
    assert _counts(tenants) == before  # no session, no failure counted

    agent.signed_in(ANA)
    page_token = agent.page_token()
    assert agent.post("/inbox/sign-out", data={}).status_code == 403
    assert agent.post("/inbox/sign-out", data={"csrf": token}).status_code == 403  # sign-in's
    assert agent.get("/inbox").status_code == 200  # still signed in
    assert agent.post("/inbox/sign-out", data={"csrf": page_token}).status_code == 303


def test_a_wrong_password_and_an_unknown_address_say_the_same(agent: AgentClient) -> None:
    wrong = agent.sign_in(ANA, "not the password")
    unknown = agent.sign_in("nobody@acme.test", PASSWORD)
    for refused in (wrong, unknown):
        assert refused.status_code == 401
        assert _notice(refused.text) == "Wrong email or password."
        assert not any(
            c.startswith("bpract_inbox=") for c in refused.headers.get_list("set-cookie")
        )
    assert 'value="nobody@acme.test"' in unknown.text  # the address stays filled in
    assert agent.get("/inbox").status_code == 303


def test_five_failures_lock_the_address_even_for_the_right_password(
    agent: AgentClient, tenants: Tenants
) -> None:
    for _ in range(5):
        assert agent.sign_in(LOU, "not the password").status_code == 401
    locked = agent.sign_in(LOU, PASSWORD)
    assert locked.status_code == 429
    assert "Too many failed sign-ins for this address. Wait 15 minutes" in locked.text
    assert "Wrong" not in locked.text and agent.get("/inbox").status_code == 303
    [(failures, until)] = rows(
        tenants.db,
        "SELECT failures, locked_until_ms FROM inbox_sign_in_failures WHERE email = ?",
        LOU,
    )
    assert failures == 5 and until > time.time() * 1000 + 14 * 60_000
    # an address no agent has is locked out the same way: the lockout tells nothing
    for _ in range(5):
        assert agent.sign_in("nobody-else@acme.test", PASSWORD).status_code == 401
    unknown = agent.sign_in("nobody-else@acme.test", PASSWORD)
    assert unknown.status_code == 429 and _notice(unknown.text) == _notice(locked.text)


def test_a_session_is_stored_as_its_hash_and_rotated_at_sign_in(
    agent: AgentClient, tenants: Tenants, inbox_server: ServerProcess
) -> None:
    agent.signed_in(ANA)
    first = agent.cookies["bpract_inbox"]
    stored = "SELECT count(*) FROM inbox_sessions WHERE id_hash = ?"
    assert rows(tenants.db, stored, hashlib.sha256(first.encode()).hexdigest()) == [(1,)]
    assert rows(tenants.db, stored, first) == [(0,)]
    # A sign-in form opened before (another tab), sent while the first session is on.
    with AgentClient(inbox_server) as tab:
        token = tab.sign_in_form()
        agent.cookies.set(
            "bpract_inbox_sign_in", tab.cookies["bpract_inbox_sign_in"], path="/inbox"
        )
    again = agent.post("/inbox/sign-in", data={"csrf": token, "email": ANA, "password": PASSWORD})
    assert again.status_code == 303
    second = agent.cookies["bpract_inbox"]
    assert second != first and agent.get("/inbox").status_code == 200
    with AgentClient(inbox_server) as replay:
        replay.cookies.set("bpract_inbox", first, path="/inbox")
        assert replay.get("/inbox").headers["location"] == "/inbox/sign-in?ended=1"
    assert rows(tenants.db, stored, hashlib.sha256(first.encode()).hexdigest()) == [(0,)]


def test_signing_out_ends_the_session_on_the_server(
    agent: AgentClient, inbox_server: ServerProcess
) -> None:
    agent.signed_in(ANA)
    old = agent.cookies["bpract_inbox"]
    out = agent.post("/inbox/sign-out", data={"csrf": agent.page_token()})
    assert (out.status_code, out.headers["location"]) == (303, "/inbox/sign-in")
    assert 'bpract_inbox=""' in _set_cookie(out, "bpract_inbox")
    with AgentClient(inbox_server) as replay:
        replay.cookies.set("bpract_inbox", old, path="/inbox")
        page = replay.get("/inbox")
        assert (page.status_code, page.headers["location"]) == (303, "/inbox/sign-in?ended=1")
        ended = replay.get("/inbox/sign-in?ended=1")
        assert "Your session has ended" in ended.text


def test_an_idle_session_ends(tenants: Tenants) -> None:
    server = start_server(tenants.db, {"BPRACT_INBOX_IDLE": "1.5"})
    try:
        with AgentClient(server) as client:
            client.signed_in(ANA)
            assert client.get("/inbox").status_code == 200
            time.sleep(2)
            page = client.get("/inbox")
            assert (page.status_code, page.headers["location"]) == (303, "/inbox/sign-in?ended=1")
    finally:
        server.stop()


def test_the_queue_shows_the_organisations_waiting_conversations_escaped(
    agent: AgentClient, inbox_server: ServerProcess, tenants: Tenants
) -> None:
    older = ask_for_person(
        inbox_server,
        tenants.acme,
        first=f"Hello {XSS} <b>bold</b>",
        identity=identity(tenants.acme, "u_1", name=XSS, plan="<i>gold</i>"),
    )
    newer = ask_for_person(
        inbox_server, tenants.acme, first=None, ask="can I talk to a human please"
    )
    theirs = ask_for_person(inbox_server, tenants.globex)

    queue = agent.signed_in(ANA).get("/inbox").text
    assert queue.index(older) < queue.index(newer) and theirs not in queue
    assert "waiting " in queue and "can I talk to a human please" in queue
    assert "&lt;img src=x onerror=alert(1)&gt;" in queue and "<img" not in queue
    page = agent.get(f"/inbox/c/{older}")
    assert page.status_code == 200
    text = page.text
    assert "<img" not in text and "<b>" not in text and "<i>" not in text
    assert "Hello &lt;img src=x onerror=alert(1)&gt; &lt;b&gt;bold&lt;/b&gt;" in text
    assert "&lt;i&gt;gold&lt;/i&gt;" in text and "u_1" in text and "verified" in text
    assert "I want to talk to a person" in text and "Bot ·" in text

    with AgentClient(inbox_server) as gus:
        other = gus.signed_in(GUS)
        their_queue = other.get("/inbox").text
        assert theirs in their_queue and older not in their_queue and newer not in their_queue
        for conversation in (older, "c_doesnotexist"):
            missing = other.get(f"/inbox/c/{conversation}")
            assert missing.status_code == 404 and "No such conversation." in missing.text
            assert "Hello" not in missing.text
        assert other.get(f"/inbox/c/{theirs}").status_code == 200


async def test_an_offline_ticket_is_listed_for_the_organisation_only_and_announced(
    inbox_server: ServerProcess, tenants: Tenants
) -> None:
    with AgentClient(inbox_server) as ana, AgentClient(inbox_server) as gus:
        ana.signed_in(ANA)
        gus.signed_in(GUS)
        desk = await AgentSocket.open(inbox_server, ana)
        visitor, _ = await open_chat(inbox_server, tenants.acme)
        try:
            question = f"Do you ship to Norway? {XSS}"
            frame = {"t": "ticket", "seq": 1, "at": int(time.time() * 1000),
                     "email": "nora+test@example.com", "text": question}  # fmt: skip
            await visitor.send(frame)
            ack, _ = await visitor.recv_until("ack")
            assert ack["seq"] == [1]
            announced = await desk.recv_until("queue")
            assert announced["change"] == "ticket"
        finally:
            await visitor.close()
            await desk.close()
        page = (await asyncio.to_thread(ana.get, "/inbox")).text
        listed = page.split('id="tickets"', 1)[1]
        assert "Offline tickets" in page and "nora+test@example.com" in listed
        assert 'href="mailto:nora%2Btest@example.com?subject=Re%3A%20your%20question"' in listed
        assert "Do you ship to Norway? &lt;img src=x onerror=alert(1)&gt;" in listed
        assert "<img" not in page and "not delivered yet" in listed  # no webhook set
        assert "Acme shop" in listed
        theirs = (await asyncio.to_thread(gus.get, "/inbox")).text
        assert "nora+test@example.com" not in theirs and "Norway" not in theirs
