"""Identity verification: a site signs its user ids with HMAC-SHA256 and its identity secret."""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["user_hash", "verify_identity"]


def user_hash(secret: str, user_id: str) -> str:
    """Hex HMAC-SHA256 of ``user_id`` under ``secret`` (what the site's backend computes)."""
    return hmac.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


def verify_identity(secret: str, user_id: str, user_hash_hex: str) -> bool:
    """Whether ``user_hash_hex`` signs ``user_id``; compared in constant time."""
    expected = user_hash(secret, user_id)
    return hmac.compare_digest(expected, user_hash_hex.strip().lower())
