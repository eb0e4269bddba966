"""What every visitor connection shares: settings, database, writer, triggers, channels, limits."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bpract.visitors.limits import SiteLimits
from bpract.visitors.writer import FrameWriter

if TYPE_CHECKING:
    from litestar.channels import ChannelsPlugin

    from bpract.chat import ChatService
    from bpract.settings import Settings
    from bpract.store import Database
    from bpract.triggers.service import TriggerService

__all__ = ["VisitorHub", "now_ms", "site_channel", "visitor_channel"]


def now_ms() -> int:
    return int(time.time() * 1000)


def site_channel(site_id: int) -> str:
    """Channel of every connection of a site (rule updates)."""
    return f"site:{site_id}"


def visitor_channel(site_id: int, visitor: str) -> str:
    """Channel of every connection (tab) of one visitor (outreach, agent replies)."""
    return f"visitor:{site_id}:{visitor}"


@dataclass(slots=True)
class VisitorHub:
    """Kept on ``app.state.visitors``; built on start-up."""

    settings: Settings
    db: Database
    writer: FrameWriter
    triggers: TriggerService
    channels: ChannelsPlugin
    site_limits: SiteLimits
    chat: ChatService | None = None
    """Answers ``message`` frames; None: messages are stored and acknowledged only."""

    @classmethod
    def create(
        cls,
        settings: Settings,
        db: Database,
        triggers: TriggerService,
        channels: ChannelsPlugin,
        chat: ChatService | None = None,
    ) -> VisitorHub:
        return cls(
            settings=settings,
            db=db,
            writer=FrameWriter(db),
            triggers=triggers,
            channels=channels,
            site_limits=SiteLimits(settings.site_rate, settings.site_burst),
            chat=chat,
        )
