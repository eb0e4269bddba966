"""Presence: connections' heartbeats on a real SQLite file, the timeout, away, several
connections, sign-out, organisations kept apart, and who is available by department."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bpract.inbox import InboxError, InboxSettings, disable_agent
from bpract.inbox.presence import (
    available,
    beat,
    leave,
    leave_agent,
    online_agents,
    prune,
    states,
)
from bpract.inbox.storage import Agent
from inbox.people import NOW, People, people, tx

TIMEOUT_MS = 45_000


@pytest.fixture
def world(tmp_path: Path) -> Iterator[People]:
    made = people(tmp_path / "presence.db")
    yield made
    made.db.close()


def _ids(agents: list[Agent]) -> list[int]:
    return [a.id for a in agents]


async def test_an_agent_is_online_until_the_timeout_after_their_last_beat(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    assert await states(world.db, world.acme, NOW) == {ana.id: "offline"}
    assert await beat(world.db, "tab-1", ana.id, "online", NOW)
    assert await states(world.db, world.acme, NOW) == {ana.id: "online"}
    assert _ids(await online_agents(world.db, world.acme, None, NOW + TIMEOUT_MS)) == [ana.id]
    assert await available(world.db, world.acme, "support", NOW + TIMEOUT_MS)

    late = NOW + TIMEOUT_MS + 1
    assert await states(world.db, world.acme, late) == {ana.id: "offline"}
    assert await online_agents(world.db, world.acme, None, late) == []
    assert not await available(world.db, world.acme, "support", late)

    assert await beat(world.db, "tab-1", ana, "online", late)  # an Agent or its id
    assert await states(world.db, world.acme, late) == {ana.id: "online"}


async def test_the_timeout_is_a_setting(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    short = InboxSettings(presence_timeout=10.0)
    await beat(world.db, "tab-1", ana.id, "online", NOW)
    assert await states(world.db, world.acme, NOW + 10_000, settings=short) == {ana.id: "online"}
    assert await states(world.db, world.acme, NOW + 10_001, settings=short) == {ana.id: "offline"}
    assert InboxSettings().presence_timeout == 45.0 and InboxSettings().heartbeat == 15.0


async def test_away_is_shown_but_not_available(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    await beat(world.db, "tab-1", ana.id, "away", NOW)
    assert await states(world.db, world.acme, NOW) == {ana.id: "away"}
    assert await online_agents(world.db, world.acme, None, NOW) == []
    assert not await available(world.db, world.acme, "support", NOW)

    await beat(world.db, "tab-1", ana.id, "online", NOW + 1)
    assert await available(world.db, world.acme, "support", NOW + 1)
    await beat(world.db, "tab-1", ana.id, "away", NOW + 2)
    assert not await available(world.db, world.acme, "support", NOW + 2)


async def test_two_connections_one_leaves_the_agent_stays_online(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    await beat(world.db, "tab-1", ana.id, "online", NOW)
    await beat(world.db, "tab-2", ana.id, "away", NOW)
    assert await states(world.db, world.acme, NOW) == {ana.id: "online"}  # any online one

    assert await leave(world.db, "tab-1")
    assert await states(world.db, world.acme, NOW) == {ana.id: "away"}
    await beat(world.db, "tab-2", ana.id, "online", NOW)
    assert await states(world.db, world.acme, NOW) == {ana.id: "online"}
    assert await leave(world.db, "tab-2")
    assert await states(world.db, world.acme, NOW) == {ana.id: "offline"}
    assert not await leave(world.db, "tab-2")  # already gone


async def test_a_connection_that_stopped_beating_does_not_count_beside_a_live_one(
    world: People,
) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    await beat(world.db, "stale", ana.id, "online", NOW)
    await beat(world.db, "live", ana.id, "away", NOW + 40_000)
    assert await states(world.db, world.acme, NOW + 50_000) == {ana.id: "away"}


async def test_a_late_beat_does_not_move_the_last_seen_back(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    await beat(world.db, "tab-1", ana.id, "online", NOW + 30_000)
    await beat(world.db, "tab-1", ana.id, "online", NOW)  # out of order
    assert await states(world.db, world.acme, NOW + 70_000) == {ana.id: "online"}


async def test_signing_out_ends_every_connection_of_the_agent_only(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    lou = world.agent(world.acme, "lou@acme.test")
    await beat(world.db, "ana-1", ana.id, "online", NOW)
    await beat(world.db, "ana-2", ana.id, "online", NOW)
    await beat(world.db, "lou-1", lou.id, "online", NOW)
    assert await leave_agent(world.db, ana.id) == 2
    assert await states(world.db, world.acme, NOW) == {ana.id: "offline", lou.id: "online"}
    assert await leave_agent(world.db, ana.id) == 0


async def test_prune_forgets_only_connections_past_the_timeout(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    await beat(world.db, "old", ana.id, "online", NOW)
    await beat(world.db, "new", ana.id, "away", NOW + 10_000)
    assert await prune(world.db, NOW + TIMEOUT_MS) == 0
    assert await prune(world.db, NOW + TIMEOUT_MS + 1) == 1
    assert not await leave(world.db, "old")
    assert await states(world.db, world.acme, NOW + TIMEOUT_MS + 1) == {ana.id: "away"}


async def test_another_organisations_agents_are_never_counted(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    gus = world.agent(world.globex, "gus@globex.test", "support", "billing")
    await beat(world.db, "gus-1", gus.id, "online", NOW)
    assert await states(world.db, world.acme, NOW) == {ana.id: "offline"}
    assert await online_agents(world.db, world.acme, None, NOW) == []
    assert await online_agents(world.db, world.acme, "billing", NOW) == []
    assert not await available(world.db, world.acme, "support", NOW)
    assert not await available(world.db, world.acme, "billing", NOW)
    assert await states(world.db, world.globex, NOW) == {gus.id: "online"}
    assert await available(world.db, world.globex, "billing", NOW)


async def test_refused_beats(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    lou = world.agent(world.acme, "lou@acme.test")
    with pytest.raises(InboxError, match="online or away"):
        await beat(world.db, "tab-1", ana.id, "busy", NOW)
    with pytest.raises(InboxError, match="connection id"):
        await beat(world.db, "", ana.id, "online", NOW)
    with pytest.raises(InboxError, match="connection id"):
        await beat(world.db, "x" * 129, ana.id, "online", NOW)
    assert not await beat(world.db, "tab-1", 999_999, "online", NOW)  # no such agent

    assert await beat(world.db, "tab-1", ana.id, "online", NOW)
    assert not await beat(world.db, "tab-1", lou.id, "online", NOW + 1)  # ana's connection
    assert await states(world.db, world.acme, NOW + 1) == {ana.id: "online", lou.id: "offline"}


async def test_a_disabled_agent_is_offline_and_cannot_beat(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    lou = world.agent(world.acme, "lou@acme.test")
    await beat(world.db, "tab-1", ana.id, "online", NOW)
    tx(world.db, lambda c: disable_agent(c, world.acme, "ana@acme.test"))
    assert await states(world.db, world.acme, NOW) == {lou.id: "offline"}
    assert not await leave(world.db, "tab-1")  # disabling ended it
    assert not await beat(world.db, "tab-1", ana.id, "online", NOW)
    assert await online_agents(world.db, world.acme, None, NOW) == []


async def test_available_means_an_online_agent_of_the_team_under_their_limit(
    world: People,
) -> None:
    ana = world.agent(world.acme, "ana@acme.test", "billing", max_open=1)
    lou = world.agent(world.acme, "lou@acme.test", "support")
    await beat(world.db, "ana-1", ana.id, "online", NOW)
    assert await available(world.db, world.acme, "billing", NOW)
    assert not await available(world.db, world.acme, "support", NOW)  # lou is offline
    assert _ids(await online_agents(world.db, world.acme, "billing", NOW)) == [ana.id]

    world.take(world.acme_site, world.handed_off(world.acme_site, "billing"), ana)
    assert not await available(world.db, world.acme, "billing", NOW)  # at her limit
    assert _ids(await online_agents(world.db, world.acme, "billing", NOW)) == [ana.id]

    # billing is staffed (by ana): it is not given to support when she cannot take it
    await beat(world.db, "lou-1", lou.id, "online", NOW)
    assert not await available(world.db, world.acme, "billing", NOW)
    # a department no one staffs falls back to support
    assert await available(world.db, world.acme, "returns", NOW)
    assert _ids(await online_agents(world.db, world.acme, "returns", NOW)) == [lou.id]
    assert _ids(await online_agents(world.db, world.acme, None, NOW)) == [ana.id, lou.id]


async def test_the_default_limit_is_a_setting_an_agent_may_override(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    await beat(world.db, "ana-1", ana.id, "online", NOW)
    world.take(world.acme_site, world.handed_off(world.acme_site), ana)
    assert await available(world.db, world.acme, "support", NOW)  # 1 of the default 5
    one = InboxSettings(max_open=1)
    assert not await available(world.db, world.acme, "support", NOW, settings=one)
    assert InboxSettings().max_open == 5


async def test_with_no_one_on_support_either_every_agent_is_the_team(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test", "billing")
    await beat(world.db, "ana-1", ana.id, "online", NOW)
    assert await available(world.db, world.acme, "returns", NOW)
    assert _ids(await online_agents(world.db, world.acme, "returns", NOW)) == [ana.id]
