"""The inbox's pages under ``/inbox``: sign-in and sign-out, the queue, one conversation.

Every form carries a CSRF token bound to its cookie (:mod:`bpract.inbox.csrf`); a POST
without the right one is refused 403 before the form is acted on.  Cookies are
``HttpOnly``, ``SameSite=Strict``, ``Path=/inbox`` and ``Secure`` when the public URL (or
the request) is https.  Pages are never cached and load no script.
"""

from __future__ import annotations

from importlib.resources import files
from typing import Any, Final

from litestar import Request, Response, Router, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Redirect

from bpract.clock import now_ms
from bpract.headers import PagePolicy, page_policy
from bpract.inbox import pages, queue
from bpract.inbox.auth import InboxAuth, Refusal, new_cookie_value
from bpract.inbox.context import visitor_context
from bpract.inbox.context_page import context_panel
from bpract.inbox.csrf import Purpose
from bpract.inbox.settings import InboxSettings
from bpract.inbox.storage import Agent
from bpract.settings import Settings
from bpract.store import Database

__all__ = ["INBOX_PAGE", "SESSION_COOKIE", "SIGN_IN_COOKIE", "route_handlers"]

AnyRequest = Request[Any, Any, Any]

SESSION_COOKIE: Final = "bpract_inbox"
SIGN_IN_COOKIE: Final = "bpract_inbox_sign_in"
#: No script at all; styles from our own stylesheet.
INBOX_PAGE: Final = PagePolicy(script_src=("'none'",), connect_src=("'none'",))
_PATH: Final = "/inbox"
_FORM_BYTES: Final = 8192
_NO_STORE: Final = {"cache-control": "no-store"}
_CSS: Final = files("bpract.inbox").joinpath("static/inbox.css").read_bytes()
_REFUSED: Final = (
    "This form has expired or did not come from the inbox. Reload the page and try again."
)


def _secure(request: AnyRequest, settings: Settings) -> bool:
    public = settings.server.public_url
    return public.startswith("https://") if public else request.url.scheme == "https"


def _cookie(request: AnyRequest, settings: Settings, key: str, value: str) -> Cookie:
    return Cookie(
        key=key, value=value, path=_PATH, httponly=True, samesite="strict",
        secure=_secure(request, settings),
    )  # fmt: skip


def _gone(key: str) -> Cookie:
    return Cookie(key=key, value="", path=_PATH, max_age=0, expires=0, httponly=True,
                  samesite="strict")  # fmt: skip


def _html(text: str, status: int = 200, cookies: list[Cookie] | None = None) -> Response[str]:
    return Response(
        text, status_code=status, media_type="text/html", headers=_NO_STORE, cookies=cookies
    )


def _to_sign_in(request: AnyRequest) -> Redirect:
    """Back to the sign-in page; a cookie that no longer opens a session is removed."""
    if request.cookies.get(SESSION_COOKIE):
        return Redirect(
            f"{_PATH}/sign-in?ended=1", status_code=303, cookies=[_gone(SESSION_COOKIE)]
        )
    return Redirect(f"{_PATH}/sign-in", status_code=303)


async def _signed_in(request: AnyRequest, inbox: InboxAuth) -> tuple[Agent, str] | None:
    """The agent of this request's session and the token of their forms."""
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


@get("/sign-in", include_in_schema=False)
async def sign_in_form(
    request: AnyRequest, inbox: NamedDependency[InboxAuth], settings: NamedDependency[Settings]
) -> Response[str] | Redirect:
    """The sign-in form, bound to a pre-session cookie (kept if the browser has one)."""
    if await _signed_in(request, inbox) is not None:
        return Redirect(_PATH, status_code=303)
    pre = request.cookies.get(SIGN_IN_COOKIE) or new_cookie_value()
    notice = "Your session has ended. Sign in again." if request.query_params.get("ended") else None
    text = pages.sign_in_page(await inbox.form_token(Purpose.SIGN_IN, pre), notice=notice)
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
        return _html(pages.sign_in_page(csrf, email=email, notice=notice), status)
    cookies = [_cookie(request, settings, SESSION_COOKIE, result.session), _gone(SIGN_IN_COOKIE)]
    return Redirect(_PATH, status_code=303, cookies=cookies)


@post("/sign-out", include_in_schema=False, request_max_body_size=_FORM_BYTES)
async def sign_out(
    request: AnyRequest, inbox: NamedDependency[InboxAuth]
) -> Response[str] | Redirect:
    session = request.cookies.get(SESSION_COOKIE)
    form = await _form(request)
    if not await inbox.valid_form(Purpose.SESSION, session, form.get("csrf")):
        return _html(pages.message_page("Refused", _REFUSED), 403)
    assert session is not None
    await inbox.sign_out(session)
    return Redirect(f"{_PATH}/sign-in", status_code=303, cookies=[_gone(SESSION_COOKIE)])


@get("/", include_in_schema=False)
async def waiting_queue(
    request: AnyRequest,
    inbox: NamedDependency[InboxAuth],
    db: NamedDependency[Database],
    settings: NamedDependency[Settings],
) -> Response[str] | Redirect:
    """The conversations waiting for a person on the agent's organisation's sites."""
    found = await _signed_in(request, inbox)
    if found is None:
        return _to_sign_in(request)
    agent, csrf = found
    items = await queue.waiting(db, agent, settings.of(InboxSettings).queue_limit)
    return _html(pages.queue_page(agent, csrf, items, now_ms()))


@get("/c/{conversation:str}", include_in_schema=False)
async def one_conversation(
    request: AnyRequest,
    inbox: NamedDependency[InboxAuth],
    db: NamedDependency[Database],
    conversation: FromPath[str],
) -> Response[str] | Redirect:
    """One conversation of the agent's organisation; any other answers 404."""
    found = await _signed_in(request, inbox)
    if found is None:
        return _to_sign_in(request)
    agent, csrf = found
    view = await queue.conversation_view(db, agent, conversation)
    if view is None:
        text = pages.message_page("Not found", "No such conversation.", agent=agent, csrf=csrf)
        return _html(text, 404)
    now = now_ms()
    ctx = await visitor_context(db, view.site_id, view.visitor.id, view.conversation, now)
    return _html(pages.conversation_page(agent, csrf, view, context_panel(ctx, now)))


#: Every page under ``/inbox``, under the inbox's Content-Security-Policy.
route_handlers = [
    Router(
        _PATH,
        route_handlers=[
            stylesheet,
            sign_in_form,
            sign_in,
            sign_out,
            waiting_queue,
            one_conversation,
        ],
        opt=page_policy(INBOX_PAGE),
        include_in_schema=False,
    )
]
