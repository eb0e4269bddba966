"""Admin tokens: created once and printed, stored as sha256, checked by the ``admin_guard``."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import apsw
from litestar.exceptions import NotAuthorizedException

from bpract.sites.tokens import insert_token, use_token

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from litestar.handlers.base import BaseRouteHandler

    from bpract.store import Database

__all__ = ["admin_guard", "create_token", "hash_token", "verify_token"]

_PREFIX = "bpa_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def create_token(conn: apsw.Connection, name: str) -> str:
    """Make an admin token named ``name``; only its hash is stored, so show it once."""
    if not name.strip():
        raise ValueError("a token needs a name")
    token = _PREFIX + secrets.token_urlsafe(32)
    insert_token(conn, name.strip(), hash_token(token), _now())
    return token


def verify_token(conn: apsw.Connection, token: str) -> str | None:
    """The name of the admin token ``token``, or None; records its use."""
    return use_token(conn, hash_token(token), _now())


async def admin_guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:  # type: ignore[type-arg]
    """Litestar guard: the request carries ``Authorization: Bearer <admin token>``."""
    scheme, _sep, token = connection.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException(detail="admin token required (Authorization: Bearer …)")
    db: Database = connection.app.state.db
    name = await db.run(lambda conn: verify_token(conn, token.strip()))
    if name is None:
        raise NotAuthorizedException(detail="invalid admin token")
