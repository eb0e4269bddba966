"""Exceptions of the guarded HTTP client.

OutboundError (detail)
├── TargetRefusedError      the address is private, loopback, link-local… and not allowed
├── RedirectRefusedError    a redirect to another origin, or too many of them
├── ResponseTooLargeError   the body passed the size cap (reading stopped there)
├── OutboundTimeoutError    connect, read or the whole call took too long
└── OutboundFailedError     the connection failed or the URL cannot be fetched
"""

from __future__ import annotations

from bpract.errors import BpractError

__all__ = [
    "OutboundError",
    "OutboundFailedError",
    "OutboundTimeoutError",
    "RedirectRefusedError",
    "ResponseTooLargeError",
    "TargetRefusedError",
]


class OutboundError(BpractError):
    """An outbound HTTP call was refused or failed; ``detail`` names the URL or host."""


class TargetRefusedError(OutboundError):
    """The target resolves to an address outbound calls may not reach."""


class RedirectRefusedError(OutboundError):
    """A redirect leaves the origin the call started on, or there were too many."""


class ResponseTooLargeError(OutboundError):
    """The response body is larger than the cap."""


class OutboundTimeoutError(OutboundError):
    """No connection, no data, or no complete answer in time."""


class OutboundFailedError(OutboundError):
    """The URL is not fetchable (bad URL, connection refused, name not found…)."""
