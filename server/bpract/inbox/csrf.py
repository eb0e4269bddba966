"""CSRF tokens of the inbox's forms: an HMAC, under a server secret, of what the form is bound to.

A signed-in agent's forms are bound to the session cookie; the sign-in form, before there is a
session, to a random pre-session cookie.  An attacker's page can neither read those cookies
(``HttpOnly``, ``SameSite=Strict``) nor compute the HMAC without the server secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from enum import StrEnum

__all__ = ["Purpose", "form_token", "valid_token"]


class Purpose(StrEnum):
    SIGN_IN = "sign-in"
    """The sign-in form, bound to the pre-session cookie."""
    SESSION = "session"
    """Every form of a signed-in agent, bound to the session cookie."""


def form_token(key: bytes, purpose: Purpose, bound_to: str) -> str:
    """The token a form carries: HMAC-SHA256(key, purpose, cookie value), url-safe."""
    mac = hmac.new(key, f"{purpose.value}\x00{bound_to}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).decode().rstrip("=")


def valid_token(key: bytes, purpose: Purpose, bound_to: str | None, given: str | None) -> bool:
    """Whether ``given`` is the token of a form bound to ``bound_to`` (both present)."""
    if not bound_to or not given:
        return False
    return hmac.compare_digest(form_token(key, purpose, bound_to).encode(), given.encode())
