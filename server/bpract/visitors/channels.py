"""The channels plugin for visitor sockets: Litestar's, forgetting channels nobody listens to.

Every visitor has its own channel.  Litestar's ``ChannelsPlugin`` keeps an entry
for each channel ever subscribed and scans all of them on every unsubscribe, so
with one channel per visitor memory and disconnect cost would grow for as long
as the process runs.  Dropping a channel's entry when its last subscriber leaves
keeps both proportional to the visitors connected now.
"""

from __future__ import annotations

from collections.abc import Iterable

from litestar.channels import ChannelsPlugin, Subscriber

__all__ = ["VisitorChannels"]


class VisitorChannels(ChannelsPlugin):
    async def unsubscribe(
        self, subscriber: Subscriber, channels: str | Iterable[str] | None = None
    ) -> None:
        names = [channels] if isinstance(channels, str) else list(channels or self._channels)
        await super().unsubscribe(subscriber, names)
        for name in names:
            if name in self._channels and not self._channels[name]:
                del self._channels[name]
