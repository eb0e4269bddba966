"""Routing on a real SQLite file: round robin over the online agents of a department under
their limit, what it skips, what it refuses, and two processes routing at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from bpract.chat import storage as chat
from bpract.inbox import InboxSettings, disable_agent
from bpract.inbox import storage as inbox
from bpract.inbox.presence import beat
from bpract.inbox.routing import pick, route
from bpract.inbox.storage import Agent
from bpract.store import Database
from inbox.people import NOW, People, people, tx


@pytest.fixture
def world(tmp_path: Path) -> Iterator[People]:
    made = people(tmp_path / "routing.db")
    yield made
    made.db.close()


async def _online(world: People, *agents: Agent, at: int = NOW) -> None:
    for agent in agents:
        assert await beat(world.db, f"tab-{agent.id}", agent.id, "online", at)


async def _route(world: People, department: str = "support", at: int = NOW) -> Agent | None:
    conversation = world.handed_off(world.acme_site, department)
    chosen = await route(world.db, (world.acme_site, conversation), world.acme, department, at)
    routed = world.conversation(world.acme_site, conversation).routed_agent
    assert routed == (None if chosen is None else chosen.id)
    return chosen


async def test_round_robin_over_three_agents(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    bob = world.agent(world.acme, "bob@acme.test")
    cyd = world.agent(world.acme, "cyd@acme.test")
    await _online(world, cyd, ana, bob)
    chosen = [await _route(world, at=NOW + i) for i in range(7)]
    assert [a.email if a else None for a in chosen] == [
        "ana@acme.test", "bob@acme.test", "cyd@acme.test",
        "ana@acme.test", "bob@acme.test", "cyd@acme.test", "ana@acme.test",
    ]  # fmt: skip


async def test_a_newcomer_is_routed_to_first_then_takes_their_turn(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    bob = world.agent(world.acme, "bob@acme.test")
    await _online(world, ana, bob)
    assert await _route(world, at=NOW + 1) == ana
    assert await _route(world, at=NOW + 2) == bob
    cyd = world.agent(world.acme, "cyd@acme.test")
    await _online(world, cyd, at=NOW + 3)
    assert [await _route(world, at=NOW + 3 + i) for i in range(3)] == [cyd, ana, bob]


async def test_the_same_millisecond_or_a_clock_behind_keeps_the_order(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    bob = world.agent(world.acme, "bob@acme.test")
    await _online(world, ana, bob)
    assert [await _route(world, at=NOW) for _ in range(4)] == [ana, bob, ana, bob]
    assert await _route(world, at=NOW - 60_000) == ana  # another process's clock, behind
    assert await _route(world, at=NOW - 60_000) == bob
    stamps = world.db.run_sync(lambda c: inbox.routed_at(c, world.acme))
    assert stamps[ana.id] < stamps[bob.id]


async def test_routing_skips_agents_at_their_limit(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test", max_open=1)
    bob = world.agent(world.acme, "bob@acme.test", max_open=2)
    await _online(world, ana, bob)
    world.take(world.acme_site, world.handed_off(world.acme_site), ana)
    assert [await _route(world, at=NOW + i) for i in range(2)] == [bob, bob]
    world.take(world.acme_site, world.handed_off(world.acme_site), bob)
    world.take(world.acme_site, world.handed_off(world.acme_site), bob)
    assert await _route(world) is None  # everyone is full: it waits in everyone's queue

    limited = InboxSettings(max_open=1)
    cyd = world.agent(world.acme, "cyd@acme.test")  # the default limit
    await _online(world, cyd)
    conversation = world.handed_off(world.acme_site)
    assert await route(world.db, (world.acme_site, conversation), world.acme, "support", NOW,
                       settings=limited) == cyd  # fmt: skip
    world.take(world.acme_site, conversation, cyd)
    assert await route(world.db, (world.acme_site, world.handed_off(world.acme_site)),
                       world.acme, "support", NOW, settings=limited) is None  # fmt: skip


async def test_an_agent_with_no_room_at_all_is_never_routed_to(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test", max_open=0)
    await _online(world, ana)
    assert await _route(world) is None


async def test_routing_skips_away_offline_disabled_other_department_and_other_org(
    world: People,
) -> None:
    away = world.agent(world.acme, "away@acme.test")
    gone = world.agent(world.acme, "gone@acme.test")
    billing = world.agent(world.acme, "billing@acme.test", "billing")
    disabled = world.agent(world.acme, "disabled@acme.test")
    gus = world.agent(world.globex, "gus@globex.test")
    ana = world.agent(world.acme, "ana@acme.test")
    await beat(world.db, "away-1", away.id, "away", NOW)
    await beat(world.db, "gone-1", gone.id, "online", NOW - 46_000)
    await _online(world, billing, disabled, gus, ana)
    tx(world.db, lambda c: disable_agent(c, world.acme, disabled.email))
    assert [await _route(world, at=NOW + i) for i in range(3)] == [ana, ana, ana]
    assert await _route(world, "billing") == billing


async def test_no_one_of_the_department_online_means_no_route_not_another_team(
    world: People,
) -> None:
    world.agent(world.acme, "billing@acme.test", "billing")  # staffed, offline
    ana = world.agent(world.acme, "ana@acme.test", "support")
    await _online(world, ana)
    assert await _route(world, "billing") is None
    assert await _route(world, "returns") == ana  # no one staffs returns: support takes it


async def test_no_one_available_clears_an_earlier_route(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    await _online(world, ana)
    conversation = world.handed_off(world.acme_site)
    assert await route(world.db, (world.acme_site, conversation), world.acme, "support",
                       NOW) == ana  # fmt: skip
    later = NOW + 60_000  # ana stopped beating
    assert await route(world.db, (world.acme_site, conversation), world.acme, "support",
                       later) is None  # fmt: skip
    assert world.conversation(world.acme_site, conversation).routed_agent is None


async def test_routing_takes_a_conversation_object(world: People) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    await _online(world, ana)
    found = world.conversation(world.acme_site, world.handed_off(world.acme_site))
    assert await route(world.db, found, world.acme, "support", NOW) == ana
    assert world.conversation(world.acme_site, found.id).routed_agent == ana.id


async def test_routing_refuses_what_does_not_wait_or_is_not_the_organisations(
    world: People,
) -> None:
    ana = world.agent(world.acme, "ana@acme.test")
    gus = world.agent(world.globex, "gus@globex.test")
    await _online(world, ana, gus)

    theirs = world.handed_off(world.globex_site)
    assert await route(world.db, (world.globex_site, theirs), world.acme, "support", NOW) is None
    assert await route(world.db, (world.acme_site, theirs), world.acme, "support", NOW) is None
    assert world.conversation(world.globex_site, theirs).routed_agent is None

    owned = world.handed_off(world.acme_site)
    world.take(world.acme_site, owned, ana)
    assert await route(world.db, (world.acme_site, owned), world.acme, "support", NOW) is None

    back = world.handed_off(world.acme_site)
    tx(world.db, lambda c: chat.take_over(c, [world.acme_site], back, agent_id=ana.id,
                                          name="Ana", at_ms=NOW))  # fmt: skip
    tx(world.db, lambda c: chat.release(c, world.acme_site, back, agent_id=ana.id, to="bot",
                                        at_ms=NOW))  # fmt: skip
    assert await route(world.db, (world.acme_site, back), world.acme, "support", NOW) is None
    assert await route(world.db, (world.acme_site, "c_nope"), world.acme, "support", NOW) is None
    # nothing of this counted as a route
    assert world.db.run_sync(lambda c: inbox.routed_at(c, world.acme)) == {}
    assert world.conversation(world.acme_site, back).routed_agent is None


def test_pick_prefers_the_longest_ago_then_the_lowest_id() -> None:
    def agent(id_: int) -> Agent:
        return Agent(id=id_, org_id=1, email=f"{id_}@a.test", display_name="A", role="agent",
                     departments=["support"], created_at="", disabled_at=None)  # fmt: skip

    assert pick([], {}) is None
    assert pick([agent(3), agent(2)], {}) == agent(2)
    assert pick([agent(1), agent(2), agent(3)], {1: 10, 2: 5}) == agent(3)
    assert pick([agent(1), agent(2)], {1: 10, 2: 10}) == agent(1)


def test_two_processes_routing_at_once_keep_the_round_robin(
    world: People, monkeypatch: pytest.MonkeyPatch
) -> None:
    agents = [world.agent(world.acme, f"a{i}@acme.test") for i in range(3)]
    for agent in agents:
        tx(world.db, lambda c, a=agent: inbox.put_presence(c, f"tab-{a.id}", a.id, "online", NOW))
    per_thread = 6
    conversations = [world.handed_off(world.acme_site) for _ in range(2 * per_thread)]
    chosen: list[list[int | None]] = [[], []]
    failures: list[BaseException] = []
    together = threading.Barrier(2, timeout=30)  # each pair of routes starts at once

    def slow_pick(agents: list[Agent], routed_at: dict[int, int]) -> Agent | None:
        time.sleep(0.05)  # between reading and writing: the other router runs meanwhile
        return pick(agents, routed_at)

    monkeypatch.setattr("bpract.inbox.routing.pick", slow_pick)

    def work(n: int) -> None:
        db = Database(world.db.path)  # its own connection to the same file, like a process

        async def routes() -> None:
            for conversation in conversations[n::2]:
                together.wait()
                agent = await route(db, (world.acme_site, conversation), world.acme,
                                    "support", NOW)  # fmt: skip
                chosen[n].append(None if agent is None else agent.id)

        try:
            asyncio.run(routes())
        except BaseException as exc:  # reported by the test below
            failures.append(exc)
        finally:
            db.close()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive()
    assert failures == []
    assert [len(c) for c in chosen] == [per_thread, per_thread]
    # one round robin over both: each agent got a third (picking one agent twice from the
    # same reading would give one of them more)
    counts = Counter(chosen[0] + chosen[1])
    assert counts == {a.id: 4 for a in agents}, counts
    # and every conversation was recorded with the agent its router was given
    for n, agent_ids in enumerate(chosen):
        for conversation, agent_id in zip(conversations[n::2], agent_ids, strict=True):
            assert world.conversation(world.acme_site, conversation).routed_agent == agent_id
