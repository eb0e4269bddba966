"""Run a write once per ``Idempotency-Key``; replay the first response for the same request."""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
from collections.abc import Callable
from typing import NamedTuple

import msgspec

from demo_site.errors import DemoApiError
from demo_site.schemas import ErrorBody
from demo_site.store import Store

__all__ = ["Outcome", "fingerprint", "run_once"]

_MAX_KEY = 255


class Outcome(NamedTuple):
    status: int
    body: bytes
    replayed: bool


def fingerprint(method: str, path: str, body: msgspec.Struct) -> str:
    """Identifies the request a key was first used for: method, path and decoded body."""
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(msgspec.json.encode(body))
    return digest.hexdigest()


def _check_key(key: str | None) -> str:
    if not key or len(key) > _MAX_KEY:
        raise DemoApiError(
            400, "idempotency_key_required", "send an Idempotency-Key header of 1-255 characters"
        )
    return key


def _attempt(
    conn: sqlite3.Connection, operation: Callable[[sqlite3.Connection], object]
) -> tuple[int, bytes]:
    # A refusal is recorded too, so a retry gets the same answer; its writes, if any, are undone.
    conn.execute("SAVEPOINT attempt")
    try:
        result = operation(conn)
    except DemoApiError as error:
        conn.execute("ROLLBACK TO attempt")
        conn.execute("RELEASE attempt")
        return error.status, msgspec.json.encode(ErrorBody(error=error.code, detail=error.detail))
    conn.execute("RELEASE attempt")
    return 200, msgspec.json.encode(result)


def run_once(
    store: Store,
    key: str | None,
    request_fingerprint: str,
    operation: Callable[[sqlite3.Connection], object],
) -> Outcome:
    """The stored outcome for ``key`` if its request matches; else run ``operation``, store it."""
    key = _check_key(key)
    with store.transaction() as conn:
        row = conn.execute(
            "SELECT fingerprint, status_code, body FROM idempotency WHERE key = ?", (key,)
        ).fetchone()
        if row is not None:
            if row["fingerprint"] != request_fingerprint:
                raise DemoApiError(
                    422,
                    "idempotency_key_reused",
                    "this Idempotency-Key was already used for a different request",
                )
            return Outcome(row["status_code"], bytes(row["body"]), replayed=True)
        status, body = _attempt(conn, operation)
        conn.execute(
            "INSERT INTO idempotency VALUES (?, ?, ?, ?, ?)",
            (key, request_fingerprint, status, body, dt.datetime.now(dt.UTC).isoformat()),
        )
        return Outcome(status, body, replayed=False)
