"""Settings of outbound HTTP calls: what may be reached despite being private, caps, timeouts."""

from __future__ import annotations

from dataclasses import dataclass

from bpract.settings import env

__all__ = ["NetSettings"]


@dataclass(frozen=True, slots=True, kw_only=True)
class NetSettings:
    """Every outbound call (ingestion, webhooks, model endpoints) goes through one guard."""

    allow: str = env("BPRACT_OUTBOUND_ALLOW", "")
    """Comma-separated targets reachable even though private or loopback: addresses or CIDRs
    (``10.1.0.0/16``), host names (``help.intranet``), or origins (``http://127.0.0.1:8080``,
    that host and port only)."""

    max_bytes: int = env("BPRACT_OUTBOUND_MAX_BYTES", 10 * 1024 * 1024)
    """Largest response body read; a larger one is refused once the cap is passed."""

    max_redirects: int = env("BPRACT_OUTBOUND_MAX_REDIRECTS", 5)
    """Redirects followed per call (only within the origin the call started on)."""

    connect_timeout: float = env("BPRACT_OUTBOUND_CONNECT_TIMEOUT", 5.0)
    """Seconds to resolve a name and open a connection."""

    read_timeout: float = env("BPRACT_OUTBOUND_READ_TIMEOUT", 15.0)
    """Seconds without a byte from the server before a call gives up."""

    total_timeout: float = env("BPRACT_OUTBOUND_TOTAL_TIMEOUT", 30.0)
    """Seconds one call may take in all, redirects and body included."""
