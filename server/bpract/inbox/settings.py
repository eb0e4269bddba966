"""Settings of the inbox: how long an agent's session lasts, and the sign-in lockout."""

from __future__ import annotations

from dataclasses import dataclass

from bpract.settings import env

__all__ = ["InboxSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class InboxSettings:
    idle_timeout: float = env("BPRACT_INBOX_IDLE", 12 * 3600.0)
    """Seconds without a request after which an agent's session ends."""

    session_max: float = env("BPRACT_INBOX_SESSION_MAX", 7 * 24 * 3600.0)
    """Seconds after sign-in at which a session ends however active it is."""

    lockout_failures: int = env("BPRACT_INBOX_LOCKOUT_FAILURES", 5)
    """Failed sign-ins for one email address that lock it out."""

    lockout: float = env("BPRACT_INBOX_LOCKOUT", 900.0)
    """Seconds an address stays locked out; failures older than this no longer count."""

    queue_limit: int = env("BPRACT_INBOX_QUEUE_LIMIT", 200)
    """Most waiting conversations the queue shows (the longest waiting)."""

    presence_beat: float = env("BPRACT_INBOX_PRESENCE_BEAT", 15.0)
    """Seconds between the heartbeats of an agent's open inbox page."""
