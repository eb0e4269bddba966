"""What every visitor connection of a process shares: settings, storage, limits, handlers."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from bpract.visitors.address import TrustedProxies
from bpract.visitors.limits import FrameBudgets, MemoryGauge, MemoryLimiter
from bpract.visitors.writer import FrameWriter
from bpract.wire.frames import Hello, Ping
from bpract.wire.handlers import FrameHandlers

if TYPE_CHECKING:
    from litestar.channels import ChannelsPlugin

    from bpract.store import Database
    from bpract.visitors.settings import VisitorSettings

__all__ = ["RulesetSource", "VisitorHub"]


class RulesetSource(Protocol):
    """Where a connection gets the ruleset its engine evaluates (only what evaluation needs)."""

    def engine_ruleset(self, site_id: int) -> Awaitable[dict[str, Any]]: ...


class VisitorHub:
    """Built once per process and handed to ``/v1/visitor`` by dependency injection.

    A plain class, not a dataclass: Litestar validates injected dataclasses field by
    field on every connection.
    """

    __slots__ = ("budgets", "channels", "connections", "db", "decoder", "frames", "proxies",
                 "rulesets", "settings", "site_limits", "writer")  # fmt: skip

    def __init__(
        self,
        settings: VisitorSettings,
        db: Database,
        channels: ChannelsPlugin,
        rulesets: RulesetSource,
        frames: FrameHandlers,
    ) -> None:
        self.settings, self.db, self.channels = settings, db, channels
        self.rulesets, self.frames = rulesets, frames
        self.writer = FrameWriter(db)
        s = settings
        self.site_limits = MemoryLimiter(s.site_rate, s.site_burst)
        self.budgets = FrameBudgets(
            client=MemoryLimiter(s.conn_rate, s.conn_burst),
            address=MemoryLimiter(s.address_rate, s.address_burst),
            refusals=MemoryLimiter(s.conn_rate, s.flood_refusals),
        )
        #: Open sockets per ``address:…`` and ``site:…`` key.
        self.connections = MemoryGauge()
        self.proxies = TrustedProxies.parse(s.trusted_proxies)
        self.decoder: msgspec.json.Decoder[Any] = frames.decoder((Hello, Ping))
