"""Settings of the tickets feature: admission limits and the delivery job's pace."""

from __future__ import annotations

from dataclasses import dataclass

from bpract.settings import env

__all__ = ["TicketSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class TicketSettings:
    per_visitor_per_hour: int = env("BPRACT_TICKETS_PER_VISITOR", 3)
    """Tickets one visitor may leave in an hour (counted in the database)."""

    per_address_per_hour: int = env("BPRACT_TICKETS_PER_ADDRESS", 10)
    """Tickets one client address may leave in an hour, whatever its visitor ids."""

    per_site_per_minute: int = env("BPRACT_TICKETS_PER_SITE", 60)
    """Tickets one site may receive in a minute."""

    sweep_interval: float = env("BPRACT_TICKETS_SWEEP", 2.0)
    """Seconds between two looks for deliveries that are due."""

    backoff: float = env("BPRACT_TICKETS_BACKOFF", 5.0)
    """Seconds before the first retry; later ones wait 6 times longer each (5 s, 30 s, 3 min,
    18 min…), up to ``max_backoff``."""

    max_backoff: float = env("BPRACT_TICKETS_MAX_BACKOFF", 3600.0)
    """Longest wait between two attempts."""

    max_attempts: int = env("BPRACT_TICKETS_MAX_ATTEMPTS", 12)
    """Attempts before a delivery is marked ``failed`` (kept and listed)."""

    claim: float = env("BPRACT_TICKETS_CLAIM", 60.0)
    """Seconds one attempt holds its delivery; a stopped process's claim lapses after it."""
