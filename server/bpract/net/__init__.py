"""Outbound HTTP: one guarded client for every call the server makes to another host."""

from __future__ import annotations

from bpract.net.addresses import Allowlist, forbidden_kind, origin_of
from bpract.net.backend import GuardedBackend, SyncGuardedBackend
from bpract.net.client import (
    Fetched,
    Outbound,
    allowlist_for,
    check_target,
    guarded_http,
    guarded_http_sync,
)
from bpract.net.errors import (
    OutboundError,
    OutboundFailedError,
    OutboundTimeoutError,
    RedirectRefusedError,
    ResponseTooLargeError,
    TargetRefusedError,
)
from bpract.net.resolver import Resolver, SystemResolver
from bpract.net.settings import NetSettings

__all__ = [
    "Allowlist",
    "Fetched",
    "GuardedBackend",
    "NetSettings",
    "Outbound",
    "OutboundError",
    "OutboundFailedError",
    "OutboundTimeoutError",
    "RedirectRefusedError",
    "Resolver",
    "ResponseTooLargeError",
    "SyncGuardedBackend",
    "SystemResolver",
    "TargetRefusedError",
    "allowlist_for",
    "check_target",
    "forbidden_kind",
    "guarded_http",
    "guarded_http_sync",
    "origin_of",
]
