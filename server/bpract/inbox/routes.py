"""The inbox's pages under ``/inbox``: sign-in and sign-out, the queue, one conversation and
what an agent does with it (take over, write, hand back, resolve, transfer, note).

Every form carries a CSRF token bound to its cookie (:mod:`bpract.inbox.csrf`); a POST
without the right one is refused 403 before the form is acted on.  Cookies are
``HttpOnly``, ``SameSite=Strict``, ``Path=/inbox`` and ``Secure`` when the public URL (or
the request) is https.  Pages are never cached; their only script is ``inbox.js``, from
here, and it talks only to this server (``/inbox/live``).
"""

from __future__ import annotations

import re
import secrets
from importlib.resources import files
from typing import Any, Final
from urllib.parse import quote

from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from bpract.chat import ChatService
from bpract.chat.desk import Release
from bpract.chat.storage import conversation_in
from bpract.clock import now_ms
from bpract.headers import PagePolicy, page_policy
from bpract.inbox import live, pages, presence, queue
from bpract.inbox.auth import SESSION_COOKIE, InboxAuth, Refusal, new_cookie_value
from bpract.inbox.context import visitor_context
from bpract.inbox.context_page import context_panel
from bpract.inbox.csrf import Purpose
from bpract.inbox.settings import InboxSettings
from bpract.inbox.storage import Agent, agent_by_id, insert_note
from bpract.settings import Settings
from bpract.store import Database
from bpract.wire.codes import MAX_MESSAGE_CHARS

__all__ = [
    "INBOX_PAGE",
    "SESSION_COOKIE",
    "SIGN_IN_COOKIE",
    "route_handlers",
    "signed_in",
    "then_path",
    "to_sign_in",
]

AnyRequest = Request[Any, Any, Any]

SIGN_IN_COOKIE: Final = "bpract_inbox_sign_in"
#: Only our own script and stylesheet; the script talks to this server only.
INBOX_PAGE: Final = PagePolicy(script_src=("'self'",), connect_src=("'self'",))
_PATH: Final = "/inbox"
_COOKIE_PATH: Final = "/"
"""The session is shared by the inbox (``/inbox``) and the console (``/console``)."""
_CLIENT_ID: Final = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
_THEN: Final = re.compile(r"^/(inbox|console)(/[A-Za-z0-9_\-./]*)?$")
"""Where a sign-in may lead: a page of the inbox or the console, never another site."""
_FORM_BYTES: Final = 8192
_NO_STORE: Final = {"cache-control": "no-store"}
_TICKETS: Final = 20
"""The offline tickets the queue page lists (the newest)."""
_CSS: Final = files("bpract.inbox").joinpath("static/inbox.css").read_bytes()
_JS: Final = files("bpract.inbox").joinpath("static/inbox.js").read_bytes()
_REFUSED: Final = (
    "This form has expired or did not come from the inbox. Reload the page and try again."
)


def _secure(request: AnyRequest, settings: Settings) -> bool:
    public = settings.server.public_url
    return public.startswith("https://") if public else request.url.scheme == "https"


def _cookie(request: AnyRequest, settings: Settings, key: str, value: str) -> Cookie:
    return Cookie(
        key=key, value=value, path=_COOKIE_PATH, httponly=True, samesite="strict",
        secure=_secure(request, settings),
    )  # fmt: skip


def _gone(key: str) -> Cookie:
    return Cookie(key=key, value="", path=_COOKIE_PATH, max_age=0, expires=0, httponly=True,
                  samesite="strict")  # fmt: skip


def _html(text: str, status: int = 200, cookies: list[Cookie] | None = None) -> Response[str]:
    return Response(
        text, status_code=status, media_type="text/html", headers=_NO_STORE, cookies=cookies
    )


def then_path(given: str | None) -> str:
    """``given`` if it is a page of the inbox or the console (no ``//``, no ``..``), else the
    inbox."""
    if given and _THEN.match(given) and "//" not in given and ".." not in given:
        return given
    return _PATH


def to_sign_in(request: AnyRequest, then: str = _PATH) -> Redirect:
    """Back to the sign-in page, which leads to ``then`` afterwards; a cookie that no longer
    opens a session is removed."""
    query = "" if then == _PATH else f"then={quote(then, safe='/')}"
    if request.cookies.get(SESSION_COOKIE):
        query = "&".join(q for q in ("ended=1", query) if q)
        return Redirect(
            f"{_PATH}/sign-in?{query}", status_code=303, cookies=[_gone(SESSION_COOKIE)]
        )
    return Redirect(f"{_PATH}/sign-in" + (f"?{query}" if query else ""), status_code=303)


async def signed_in(request: AnyRequest, inbox: InboxAuth) -> tuple[Agent, str] | None:
    """The person of this request's session and the token of their forms."""
    session = request.cookies.get(SESSION_COOKIE)
    agent = await inbox.agent(session)
    if agent is None or session is None:
        return None
    return agent, await inbox.form_token(Purpose.SESSION, session)


async def _form(request: AnyRequest) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


@get("/static/inbox.css", include_in_schema=False)
async def stylesheet() -> Response[bytes]:
    return Response(_CSS, media_type="text/css", headers={"cache-control": "public, max-age=300"})


@get("/static/inbox.js", include_in_schema=False)
async def script() -> Response[bytes]:
    return Response(
        _JS, media_type="text/javascript", headers={"cache-control": "public, max-age=300"}
    )


@get("/sign-in", include_in_schema=False)
async def sign_in_form(
    request: AnyRequest, inbox: NamedDependency[InboxAuth], settings: NamedDependency[Settings]
) -> Response[str] | Redirect:
    """The sign-in form, bound to a pre-session cookie (kept if the browser has one)."""
    then = then_path(request.query_params.get("then"))
    if await signed_in(request, inbox) is not None:
        return Redirect(then, status_code=303)
    pre = request.cookies.get(SIGN_IN_COOKIE) or new_cookie_value()
    notice = "Your session has ended. Sign in again." if request.query_params.get("ended") else None
    csrf = await inbox.form_token(Purpose.SIGN_IN, pre)
    text = pages.sign_in_page(csrf, notice=notice, then=then)
    return _html(text, cookies=[_cookie(request, settings, SIGN_IN_COOKIE, pre)])


@post("/sign-in", include_in_schema=False, request_max_body_size=_FORM_BYTES)
async def sign_in(
    request: AnyRequest, inbox: NamedDependency[InboxAuth], settings: NamedDependency[Settings]
) -> Response[str] | Redirect:
    pre = request.cookies.get(SIGN_IN_COOKIE)
    form = await _form(request)
    if not await inbox.valid_form(Purpose.SIGN_IN, pre, form.get("csrf")):
        return _html(pages.message_page("Refused", _REFUSED, back=f"{_PATH}/sign-in"), 403)
    assert pre is not None
    email = form.get("email", "")
    then = then_path(form.get("then"))
    result = await inbox.sign_in(
        email, form.get("password", ""), replacing=request.cookies.get(SESSION_COOKIE)
    )
    if isinstance(result, Refusal):
        lockout = settings.of(InboxSettings).lockout
        notice = (
            "Wrong email or password."
            if result is Refusal.WRONG
            else "Too many failed sign-ins for this address. Wait"
            f" {max(1, round(lockout / 60))} minutes, then try again."
        )
        csrf = await inbox.form_token(Purpose.SIGN_IN, pre)
        status = 401 if result is Refusal.WRONG else 429
        page = pages.sign_in_page(csrf, email=email, notice=notice, then=then)
        return _html(page, status)
    cookies = [_cookie(request, settings, SESSION_COOKIE, result.session), _gone(SIGN_IN_COOKIE)]
    return Redirect(then, status_code=303, cookies=cookies)


@post("/sign-out", include_in_schema=False, request_max_body_size=_FORM_BYTES)
async def sign_out(
    request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database]
) -> Response[str] | Redirect:
    session = request.cookies.get(SESSION_COOKIE)
    form = await _form(request)
    if not await inbox.valid_form(Purpose.SESSION, session, form.get("csrf")):
        return _html(pages.message_page("Refused", _REFUSED), 403)
    assert session is not None
    agent = await inbox.agent(session)
    await inbox.sign_out(session)
    if agent is not None:  # no longer online: no conversation is routed to them
        await presence.leave_agent(db, agent.id)
    return Redirect(f"{_PATH}/sign-in", status_code=303, cookies=[_gone(SESSION_COOKIE)])


@get("/", include_in_schema=False)
async def waiting_queue(
    request: AnyRequest,
    inbox: NamedDependency[InboxAuth],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[str] | Redirect:
    """The conversations waiting for a person on the agent's organisation's sites."""
    found = await signed_in(request, inbox)
    if found is None:
        return to_sign_in(request)
    agent, csrf = found
    limit = settings.of(InboxSettings).queue_limit
    items = await queue.waiting(db, agent, limit)
    mine = await queue.mine(db, agent, limit)
    tickets = await queue.tickets(db, agent, _TICKETS)
    return _html(pages.queue_page(agent, csrf, items, now_ms(), mine=mine, tickets=tickets))


@get("/c/{conversation:str}", include_in_schema=False)
async def one_conversation(
    request: AnyRequest,
    inbox: NamedDependency[InboxAuth],
    db: NamedDependency[Database],
    conversation: FromPath[str],
) -> Response[str] | Redirect:
    """One conversation of the agent's organisation; any other answers 404."""
    found = await signed_in(request, inbox)
    if found is None:
        return to_sign_in(request)
    agent, csrf = found
    view = await queue.conversation_view(db, agent, conversation)
    if view is None:
        return _not_found(agent, csrf)
    notice = _NOTICES.get(request.query_params.get("n", ""))
    if notice is None and (lost := request.query_params.get("lost")):
        notice = f"{lost[:80]} took this conversation first."
    now = now_ms()
    ctx = await visitor_context(db, view.site_id, view.visitor.id, view.conversation, now)
    page = pages.conversation_page(
        agent, csrf, view, notice=notice, context=context_panel(ctx, now)
    )
    return _html(page)


def _not_found(agent: Agent, csrf: str) -> Response[str]:
    text = pages.message_page("Not found", "No such conversation.", agent=agent, csrf=csrf)
    return _html(text, 404)


_NOTICES: Final = {
    "taken": "You have this conversation: the assistant is silent while you do.",
    "not-yours": "You do not have this conversation any more.",
    "noted": "Note added.",
    "sent": "Sent.",
    "empty": f"Write 1 to {MAX_MESSAGE_CHARS} characters.",
    "transferred": "Transferred.",
}


async def _acting(
    request: AnyRequest, inbox: InboxAuth
) -> tuple[Agent, dict[str, str]] | Response[str] | Redirect:
    """The signed-in agent of a form post with its fields, or the answer refusing it."""
    session = request.cookies.get(SESSION_COOKIE)
    form = await _form(request)
    if not await inbox.valid_form(Purpose.SESSION, session, form.get("csrf")):
        return _html(pages.message_page("Refused", _REFUSED), 403)
    agent = await inbox.agent(session)
    if agent is None:
        return to_sign_in(request)
    return agent, form


_RELEASES: Final[dict[str, Release]] = {"bot": "bot", "queue": "queue", "resolved": "resolved"}


def _back(conversation: str, notice: str = "") -> Redirect:
    query = f"?n={notice}" if notice else ""
    return Redirect(f"{_PATH}/c/{conversation}{query}", status_code=303)


@post("/c/{conversation:str}/take", include_in_schema=False, request_max_body_size=_FORM_BYTES)
async def take(
    request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database],
    chat: NamedDependency[ChatService], conversation: FromPath[str],
) -> Response[str] | Redirect:  # fmt: skip
    """Take the conversation over; of two agents at once, one has it, the other is told."""
    acting = await _acting(request, inbox)
    if not isinstance(acting, tuple):
        return acting
    agent, _ = acting
    taken = await chat.desk.take(
        await queue.site_ids(db, agent), conversation, agent_id=agent.id, name=agent.display_name
    )
    if taken is None:
        return _not_found(agent, await inbox.form_token(Purpose.SESSION, _session(request)))
    if not taken.won:
        if taken.conversation.owner_agent == agent.id:
            return _back(conversation, "taken")
        who = quote(taken.conversation.owner_name or "Someone")
        return Redirect(f"{_PATH}/c/{conversation}?lost={who}", status_code=303)
    return _back(conversation, "taken")


def _session(request: AnyRequest) -> str:
    return request.cookies.get(SESSION_COOKIE) or ""


@post("/c/{conversation:str}/release", include_in_schema=False,
      request_max_body_size=_FORM_BYTES)  # fmt: skip
async def release(
    request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database],
    chat: NamedDependency[ChatService], conversation: FromPath[str],
) -> Response[str] | Redirect:  # fmt: skip
    """Hand back to the assistant, back to the queue (of a team), or resolve — the owner, or
    a supervisor for anyone's."""
    acting = await _acting(request, inbox)
    if not isinstance(acting, tuple):
        return acting
    agent, form = acting
    to = _RELEASES.get(form.get("to", ""))
    if to is None:
        return _html(pages.message_page("Refused", "Choose bot, queue or resolved."), 400)
    department = (form.get("department") or "").strip()[:64] or None
    done = await chat.desk.release(
        await queue.site_ids(db, agent), conversation, to=to,
        agent_id=None if agent.role == "supervisor" else agent.id,
        department=department if to == "queue" else None,
    )  # fmt: skip
    if done is None:
        return _back(conversation, "not-yours")
    return Redirect(_PATH, status_code=303)


@post("/c/{conversation:str}/transfer", include_in_schema=False,
      request_max_body_size=_FORM_BYTES)  # fmt: skip
async def transfer(
    request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database],
    chat: NamedDependency[ChatService], conversation: FromPath[str],
) -> Response[str] | Redirect:  # fmt: skip
    """Give the conversation to a colleague of the same organisation."""
    acting = await _acting(request, inbox)
    if not isinstance(acting, tuple):
        return acting
    agent, form = acting
    raw = form.get("agent", "")
    target = await db.run(lambda c: agent_by_id(c, int(raw))) if raw.isdigit() else None
    if target is None or target.org_id != agent.org_id or target.disabled_at is not None:
        return _html(pages.message_page("Refused", "No such colleague."), 400)
    done = await chat.desk.transfer(
        await queue.site_ids(db, agent), conversation, to_agent=target.id,
        to_name=target.display_name,
        from_agent=None if agent.role == "supervisor" else agent.id,
    )  # fmt: skip
    if done is None:
        return _back(conversation, "not-yours")
    return Redirect(_PATH, status_code=303)


def _client_id(given: str) -> str:
    """The form's own message id (one per page shown), or a fresh one if it has none."""
    return given if _CLIENT_ID.match(given) else secrets.token_urlsafe(12)


@post("/c/{conversation:str}/say", include_in_schema=False, request_max_body_size=_FORM_BYTES)
async def say(
    request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database],
    chat: NamedDependency[ChatService], conversation: FromPath[str],
) -> Response[str] | Redirect:  # fmt: skip
    """Write to the visitor (the page's form; the script sends over the socket instead)."""
    acting = await _acting(request, inbox)
    if not isinstance(acting, tuple):
        return acting
    agent, form = acting
    text = form.get("text", "").strip()
    if not text or len(text) > MAX_MESSAGE_CHARS:
        return _back(conversation, "empty")
    said = await chat.desk.say(
        await queue.site_ids(db, agent), conversation, agent_id=agent.id,
        name=agent.display_name, text=text, client_id=_client_id(form.get("id", "")),
    )  # fmt: skip
    return _back(conversation, "sent" if said is not None else "not-yours")


@post("/c/{conversation:str}/notes", include_in_schema=False, request_max_body_size=_FORM_BYTES)
async def add_note(
    request: AnyRequest, inbox: NamedDependency[InboxAuth], db: NamedDependency[Database],
    conversation: FromPath[str],
) -> Response[str] | Redirect:  # fmt: skip
    """A private note for the team (never sent to the visitor)."""
    acting = await _acting(request, inbox)
    if not isinstance(acting, tuple):
        return acting
    agent, form = acting
    text = form.get("text", "").strip()
    if not text or len(text) > MAX_MESSAGE_CHARS:
        return _back(conversation, "empty")
    site_ids, at = await queue.site_ids(db, agent), now_ms()

    def store(c: Any) -> bool:
        found = conversation_in(c, site_ids, conversation)
        if found is None:
            return False
        insert_note(
            c, org_id=agent.org_id, site_id=found.site_id, conversation=found.id,
            agent_id=agent.id, author=agent.display_name, text=text, at_ms=at,
        )  # fmt: skip
        return True

    if not await db.transaction(store):
        return _not_found(agent, await inbox.form_token(Purpose.SESSION, _session(request)))
    return _back(conversation, "noted")


#: Every page under ``/inbox``, under the inbox's Content-Security-Policy.
route_handlers = [
    Router(
        _PATH,
        route_handlers=[
            stylesheet,
            script,
            sign_in_form,
            sign_in,
            sign_out,
            waiting_queue,
            one_conversation,
            take,
            release,
            transfer,
            say,
            add_note,
        ],
        opt=page_policy(INBOX_PAGE),
        include_in_schema=False,
    ),
    *live.route_handlers,
]
