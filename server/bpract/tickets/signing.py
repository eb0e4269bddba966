"""The signature of a webhook delivery: ``X-BPract-Signature: t=<unix>,v1=<hex>``.

``v1`` is HMAC-SHA256, keyed with the site's whole secret (``whsec_…`` as UTF-8), of
``"<t>.<body>"``: the receiver recomputes it over the raw body it received, compares in
constant time, and refuses a ``t`` too far from its clock (a replay).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

__all__ = ["SECRET_PREFIX", "new_secret", "sign", "signature", "verify"]

SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The hex HMAC-SHA256 of ``"<timestamp>.<body>"`` keyed with ``secret``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-BPract-Signature`` header's value."""
    return f"t={timestamp},v1={signature(secret, timestamp, body)}"


def verify(secret: str, header: str, body: bytes, *, now_s: int, tolerance_s: int = 300) -> bool:
    """Whether ``header`` signs ``body`` with ``secret``, at most ``tolerance_s`` from now."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    stamp = parts.get("t", "")
    if not stamp.isdigit() or abs(now_s - int(stamp)) > tolerance_s:
        return False
    expected = signature(secret, int(stamp), body)
    return hmac.compare_digest(expected, parts.get("v1", ""))
