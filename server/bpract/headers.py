"""Security headers on every HTTP response, and the Content-Security-Policy of the server's pages.

Every response gets ``X-Content-Type-Options: nosniff``, a ``Referrer-Policy`` and a
``Content-Type`` with exactly one ``charset`` when it is text (none when it is
binary). An HTML page also gets a Content-Security-Policy, ``frame-ancestors 'none'``
and ``X-Frame-Options: DENY`` unless its handler declares its own :class:`PagePolicy`::

    @get("/inbox", opt=page_policy(PagePolicy(connect_src=("'self'", "wss:"))))

Scripts and runtime files (the widget) carry no CSP: a CSP on them would not protect
the host page, and the host page's own policy is what governs them there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

__all__ = [
    "DEFAULT_PAGE",
    "REFERRER_POLICY",
    "PagePolicy",
    "one_charset",
    "page_policy",
    "secure_headers",
]

#: The whole URL to our own origin, only the origin to others, nothing over a downgrade.
REFERRER_POLICY: Final = "strict-origin-when-cross-origin"

_OPT: Final = "bpract_page_policy"
_TEXT_TYPES: Final = ("text/", "application/json", "application/javascript", "application/yaml")


@dataclass(frozen=True, slots=True, kw_only=True)
class PagePolicy:
    """The Content-Security-Policy of one of the server's own HTML pages."""

    script_src: tuple[str, ...] = ("'self'",)
    """Where scripts may come from; no inline script unless listed (a hash or a nonce)."""
    style_src: tuple[str, ...] = ("'self'",)
    """Where stylesheets may come from."""
    img_src: tuple[str, ...] = ("'self'", "data:")
    """Where images may come from."""
    connect_src: tuple[str, ...] = ("'self'",)
    """Where ``fetch`` and WebSockets may go."""
    font_src: tuple[str, ...] = ("'self'",)
    """Where fonts may come from."""
    frame_ancestors: tuple[str, ...] = ("'none'",)
    """Who may frame the page: nobody by default (clickjacking)."""

    def header(self) -> str:
        directives = {
            "default-src": ("'none'",),
            "script-src": self.script_src,
            "style-src": self.style_src,
            "img-src": self.img_src,
            "font-src": self.font_src,
            "connect-src": self.connect_src,
            "base-uri": ("'none'",),
            "form-action": ("'self'",),
            "frame-ancestors": self.frame_ancestors,
        }
        return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


#: The policy of a page whose handler declares none.
DEFAULT_PAGE: Final = PagePolicy()


def page_policy(policy: PagePolicy) -> dict[str, Any]:
    """A route handler's ``opt`` declaring the CSP of the page it serves."""
    return {_OPT: policy}


def one_charset(content_type: str) -> str:
    """``text/javascript; charset=utf-8; charset=utf-8`` → one ``charset=utf-8``; none on binary."""
    media, *params = (p.strip() for p in content_type.split(";"))
    kept = [p for p in params if p and not p.lower().startswith("charset=")]
    lowered = media.lower()
    if lowered.startswith(_TEXT_TYPES) or lowered.endswith("+json"):
        kept.append("charset=utf-8")
    return "; ".join([media, *kept])


def _policy_of(scope: Scope) -> PagePolicy:
    handler = scope.get("route_handler")
    opt = getattr(handler, "opt", None) or {}
    policy = opt.get(_OPT)
    return policy if isinstance(policy, PagePolicy) else DEFAULT_PAGE


async def secure_headers(message: Message, scope: Scope) -> None:
    """Litestar ``before_send`` hook: the headers above on every HTTP response."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers["x-content-type-options"] = "nosniff"
    headers.setdefault("referrer-policy", REFERRER_POLICY)
    content_type = headers.get("content-type")
    if content_type is None:
        return
    headers["content-type"] = one_charset(content_type)
    if content_type.lower().startswith("text/html"):
        policy = _policy_of(scope)
        headers.setdefault("content-security-policy", policy.header())
        if policy.frame_ancestors == ("'none'",):
            headers.setdefault("x-frame-options", "DENY")
        headers.setdefault("cross-origin-opener-policy", "same-origin")
