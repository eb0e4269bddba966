"""Visitor keys: the secret that proves a browser is the visitor whose history it asks for.

A key is an HMAC of the site and visitor id under a per-site server secret, so
nothing per visitor is stored: the server recomputes it to check a ``hello``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["new_secret", "new_visitor_id", "visitor_key", "visitor_key_matches"]


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def new_visitor_id() -> str:
    """``v_`` + 22 url-safe random characters, as the widget makes them."""
    return "v_" + secrets.token_urlsafe(16)[:22]


def visitor_key(secret: str, site_id: int, visitor: str) -> str:
    """``k_`` + 43 url-safe characters of HMAC-SHA256(secret, site id and visitor id)."""
    mac = hmac.new(secret.encode(), f"{site_id}\x00{visitor}".encode(), hashlib.sha256)
    return "k_" + base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


def visitor_key_matches(secret: str, site_id: int, visitor: str, key: str | None) -> bool:
    if not key:
        return False
    return hmac.compare_digest(visitor_key(secret, site_id, visitor).encode(), key.encode())
