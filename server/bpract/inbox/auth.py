"""Agents' sign-in: password check, lockout, sessions kept as the sha256 of their cookie.

A failed sign-in is counted before the password is checked, in the same locked transaction
that reads the count, so parallel guesses cannot pass the limit together; a success forgets
the failures.  An address no agent has is checked against a dummy hash and locked out like
any other, so neither the time taken nor the messages tell whether an agent has it.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from bpract.clock import Clock
from bpract.clock import now_ms as wall_ms
from bpract.inbox import passwords, storage
from bpract.inbox.csrf import Purpose, form_token, valid_token
from bpract.inbox.settings import InboxSettings
from bpract.inbox.storage import Agent, Failures
from bpract.store import Database

__all__ = ["SESSION_COOKIE", "InboxAuth", "Refusal", "SignedIn", "new_cookie_value"]

#: The cookie of an agent's session (its value signs them in; only its sha256 is stored).
SESSION_COOKIE: Final = "bpract_inbox"

_MAX_EMAIL: Final = 320
_MAX_PASSWORD: Final = 1024
_COOKIE_CHARS: Final = 43  # token_urlsafe(32)


class Refusal(StrEnum):
    WRONG = "wrong"
    """No enabled agent with that address and password."""
    LOCKED = "locked"
    """Too many failures for that address lately: not even checked."""


@dataclass(frozen=True, slots=True)
class SignedIn:
    agent: Agent
    session: str
    """The new session's cookie value (only its hash is stored)."""


def new_cookie_value() -> str:
    """A random cookie value: 32 bytes, url-safe."""
    return secrets.token_urlsafe(32)


def _hash(session: str) -> str:
    return hashlib.sha256(session.encode()).hexdigest()


def _plausible(cookie: str | None) -> bool:
    return cookie is not None and len(cookie) == _COOKIE_CHARS


def _matching(candidates: Sequence[tuple[Agent, str]], password: str) -> tuple[Agent, str] | None:
    """The agent whose hash ``password`` matches; a dummy hash checked when there is none."""
    if not candidates:
        passwords.verify(passwords.dummy_hash(), password)
        return None
    for agent, password_hash in candidates:
        if passwords.verify(password_hash, password):
            return agent, password_hash
    return None


class InboxAuth:
    """Sign-in, sessions and form tokens of the inbox."""

    def __init__(self, db: Database, settings: InboxSettings, now_ms: Clock = wall_ms) -> None:
        self.db, self.settings = db, settings
        self._now_ms = now_ms
        self._key: bytes | None = None

    async def _csrf_key(self) -> bytes:
        if self._key is None:
            text = await self.db.transaction(lambda c: storage.secret(c, "csrf"))
            self._key = text.encode()
        return self._key

    async def form_token(self, purpose: Purpose, bound_to: str) -> str:
        """The CSRF token of a form bound to cookie value ``bound_to``."""
        return form_token(await self._csrf_key(), purpose, bound_to)

    async def valid_form(self, purpose: Purpose, bound_to: str | None, given: str | None) -> bool:
        """Whether a posted form carries the token of its cookie."""
        return valid_token(await self._csrf_key(), purpose, bound_to, given)

    def _idle_since(self, now: int) -> int:
        return now - int(self.settings.idle_timeout * 1000)

    # -- sign-in ---------------------------------------------------------------------------

    def _count_attempt(self, conn: Any, email: str, now: int) -> bool:
        """Count this attempt as a failure until it succeeds; False: the address is locked."""
        window = int(self.settings.lockout * 1000)
        found = storage.failures_of(conn, email)
        if found is not None and found.locked_until_ms > now:
            return False
        if found is None or found.first_ms <= now - window:
            found = Failures(0, now, 0)
        count = found.count + 1
        locked = now + window if count >= self.settings.lockout_failures else 0
        storage.put_failures(conn, email, Failures(count, found.first_ms, locked))
        return True

    async def sign_in(
        self, email: str, password: str, *, replacing: str | None = None
    ) -> SignedIn | Refusal:
        """A new session for the agent with this address and password; ``replacing``, the
        session cookie the browser had, ends (the session id changes at every sign-in)."""
        email, password = email.strip().lower()[:_MAX_EMAIL], password[:_MAX_PASSWORD]
        now = self._now_ms()
        if not await self.db.transaction(lambda c: self._count_attempt(c, email, now), lock=True):
            return Refusal.LOCKED
        candidates = await self.db.run(lambda c: storage.enabled_with_email(c, email))
        matched = await asyncio.to_thread(_matching, candidates, password)
        if matched is None:
            return Refusal.WRONG
        agent, old_hash = matched
        rehashed = None
        if passwords.needs_rehash(old_hash):
            rehashed = await asyncio.to_thread(passwords.hash_password, password)
        session = new_cookie_value()
        expires = now + int(self.settings.session_max * 1000)

        def open_session(conn: Any) -> None:
            storage.forget_failures(conn, email)
            if rehashed is not None:
                storage.set_password_hash(conn, agent.id, rehashed)
            storage.prune_sessions(conn, now, self._idle_since(now))
            if _plausible(replacing):
                storage.delete_session(conn, _hash(str(replacing)))
            storage.insert_session(conn, _hash(session), agent.id, now, expires)

        await self.db.transaction(open_session, lock=True)
        return SignedIn(agent, session)

    # -- sessions ----------------------------------------------------------------------------

    async def agent(self, session: str | None) -> Agent | None:
        """The agent a session cookie signs in, its use recorded; None when it has ended."""
        if session is None or not _plausible(session):
            return None
        now = self._now_ms()
        id_hash, idle_since = _hash(session), self._idle_since(now)
        return await self.db.run(lambda c: storage.use_session(c, id_hash, now, idle_since))

    async def sign_out(self, session: str) -> None:
        """End the session of this cookie (the cookie opens nothing afterwards)."""
        id_hash = _hash(session)
        await self.db.run(lambda c: storage.delete_session(c, id_hash))
