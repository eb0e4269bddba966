"""Settings of the inbox: how long an agent's session lasts, the sign-in lockout, presence and
the limit of conversations routed to an agent."""

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

    heartbeat: float = env("BPRACT_INBOX_HEARTBEAT", 15.0)
    """Seconds between the heartbeats an agent's open inbox sends while connected."""

    presence_timeout: float = env("BPRACT_INBOX_PRESENCE_TIMEOUT", 45.0)
    """Seconds after a connection's last heartbeat at which it no longer counts: an agent
    with no connection seen within it is offline."""

    max_open: int = env("BPRACT_INBOX_MAX_OPEN", 5)
    """Most open conversations routing gives an agent (an agent's own limit overrides it)."""
