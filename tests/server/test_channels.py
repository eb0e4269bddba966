"""Visitor channels: messages reach subscribers, and channels nobody listens to are forgotten."""

from __future__ import annotations

import asyncio

from litestar.channels.backends.memory import MemoryChannelsBackend

from bpract.visitors.channels import VisitorChannels


async def test_unused_channels_are_forgotten_and_publishing_still_works() -> None:
    plugin = VisitorChannels(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    async with plugin:
        for n in range(500):
            names = ["site:1", f"visitor:1:v_{n}"]
            subscriber = await plugin.subscribe(names)
            await plugin.unsubscribe(subscriber, names)
        assert plugin._channels == {}

        tab_a = await plugin.subscribe(["site:1", "visitor:1:v_x"])
        tab_b = await plugin.subscribe(["site:1", "visitor:1:v_x"])
        await plugin.unsubscribe(tab_a, ["site:1", "visitor:1:v_x"])
        await plugin.wait_published(b'{"t":"pong"}', ["visitor:1:v_x"])
        received = await asyncio.wait_for(anext(tab_b.iter_events()), 5)
        assert received == b'{"t":"pong"}'
        await plugin.unsubscribe(tab_b, ["site:1", "visitor:1:v_x"])
        assert plugin._channels == {}
