"""One reply on the wire: ``reply_start``, deltas, resets, ``reply_end``, to every tab."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from bpract.wire.channels import visitor_channel
from bpract.wire.frames import (
    Citation,
    ReplyDelta,
    ReplyDrop,
    ReplyEnd,
    ReplyReset,
    ReplyStart,
    ServerFrame,
    encode,
)

if TYPE_CHECKING:
    from litestar.channels import ChannelsPlugin

__all__ = ["Kind", "ReplyStream"]

Kind = Literal["answer", "unknown", "handoff", "action", "ticket"]


class ReplyStream:
    """Publishes one reply's frames on the visitor's channel, so every tab and worker gets them."""

    def __init__(
        self, channels: ChannelsPlugin, *, site_id: int, visitor: str, reply_id: str
    ) -> None:
        self._channels = channels
        self._channel = visitor_channel(site_id, visitor)
        self.id = reply_id
        self.shown = False
        """Whether text was sent since the start or the last reset."""
        self.dropped = False
        """A person took the conversation over: nothing more of this reply is sent."""

    async def _send(self, frame: ServerFrame) -> None:
        if not self.dropped:
            await self._channels.wait_published(encode(frame), self._channel)

    async def drop(self) -> None:
        """Withdraw the reply: the widget removes what it showed; later frames are not sent."""
        if not self.dropped:
            await self._send(ReplyDrop(id=self.id))
            self.dropped = True

    async def start(self, conversation: str, in_reply_to: int) -> None:
        await self._send(ReplyStart(id=self.id, conversation=conversation, in_reply_to=in_reply_to))

    async def delta(self, text: str) -> None:
        if text:
            self.shown = True
            await self._send(ReplyDelta(id=self.id, text=text))

    async def reset(self) -> None:
        if self.shown:
            self.shown = False
            await self._send(ReplyReset(id=self.id))

    async def end(self, text: str, citations: list[Citation], kind: Kind, offline: bool) -> None:
        frame = ReplyEnd(id=self.id, text=text, citations=citations, kind=kind, offline=offline)
        await self._send(frame)
