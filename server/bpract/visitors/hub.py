"""What every visitor connection of a process shares: settings, storage, limits, handlers."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any, Protocol

import msgspec

from bpract.visitors.limits import SiteLimits
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

    __slots__ = ("channels", "db", "decoder", "frames", "rulesets", "settings", "site_limits",
                 "writer")  # fmt: skip

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
        self.site_limits = SiteLimits(settings.site_rate, settings.site_burst)
        self.decoder: msgspec.json.Decoder[Any] = frames.decoder((Hello, Ping))
