"""Sessions: a new one after 30 minutes without activity, with its first source."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

from .state import Session, VisitorState

__all__ = ["SESSION_TIMEOUT_MS", "location_of", "new_session_id", "touch_session"]

SESSION_TIMEOUT_MS = 30 * 60 * 1000


def new_session_id() -> str:
    """``n_`` and 22 url-safe characters (128 random bits)."""
    return "n_" + secrets.token_urlsafe(16)


def location_of(url: str) -> str:
    """The path and query of a URL: what page globs match against."""
    parts = urlsplit(url)
    path = parts.path or "/"
    return f"{path}?{parts.query}" if parts.query else path


def _utm_source(url: str) -> str | None:
    values = parse_qs(urlsplit(url).query).get("utm_source")
    return values[0][:100].lower() if values and values[0] else None


def _external_host(referrer: str, url: str) -> str | None:
    host = (urlsplit(referrer).hostname or "").lower()
    return host if host and host != (urlsplit(url).hostname or "").lower() else None


def touch_session(
    state: VisitorState,
    at: int,
    *,
    url: str = "",
    referrer: str = "",
    new_id: Callable[[], str] = new_session_id,
) -> bool:
    """Record activity at ``at``; returns True when it started a new session.

    ``url``/``referrer`` are the page the activity happened on: the session
    keeps the first ``utm_source`` and external referrer host it sees.
    """
    if state.first_seen is None:
        state.first_seen = at
    current = state.session
    started = current is None or at - current.last_activity > SESSION_TIMEOUT_MS
    if started or current is None:
        state.sessions += 1
        current = Session(id=new_id(), number=state.sessions, started=at, last_activity=at)
        state.session = current
    current.last_activity = max(current.last_activity, at)
    if url and current.utm_source is None:
        current.utm_source = _utm_source(url)
    if referrer and current.referrer is None:
        current.referrer = _external_host(referrer, url)
    return started
