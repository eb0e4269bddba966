"""Abuse limits on the visitor socket: idle sockets, open sockets per address and per site,
frame budgets that a reconnect does not refill, and the visitor key."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from websockets.exceptions import ConnectionClosed

from bpract.sites import Site
from server.conftest import ORIGIN, rows
from support.server import ServerProcess
from support.sites import make_site
from support.visitor import VisitorClient, new_id

IDLE_S = 1.5


@pytest.fixture(scope="module")
def live_env() -> dict[str, str]:
    return {
        "BPRACT_IDLE_TIMEOUT": str(IDLE_S),
        "BPRACT_MAX_CONN_PER_ADDRESS": "4",
        "BPRACT_MAX_CONN_PER_SITE": "3",
        "BPRACT_VISITOR_KEY_GRACE": "0",
    }


async def closed_with(client: VisitorClient, within: float = 10.0) -> int | None:
    """The close code the server ends ``client`` with (frames before it are skipped)."""
    try:
        async with asyncio.timeout(within):
            while True:
                await client.ws.recv()
    except ConnectionClosed as closed:
        return closed.rcvd.code if closed.rcvd else None


async def test_a_silent_socket_is_closed_and_a_pinging_one_stays(
    live_server: ServerProcess, live_site: Site
) -> None:
    silent = await VisitorClient.open(live_server.ws_url, ORIGIN)
    pinging = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await silent.hello(live_site.public_key)
    await pinging.hello(live_site.public_key)
    closing = asyncio.create_task(closed_with(silent, within=IDLE_S * 6))
    until = time.monotonic() + IDLE_S * 2.5
    while time.monotonic() < until:  # the engine's keep-alive, at a third of the timeout
        await pinging.send({"t": "ping"})
        assert await pinging.recv() == {"t": "pong"}
        await asyncio.sleep(IDLE_S / 3)
    assert await closing == 4410
    await pinging.send({"t": "ping"})
    assert await pinging.recv() == {"t": "pong"}
    await pinging.close()


async def test_open_sockets_are_capped_per_site_and_per_address(
    live_server: ServerProcess, live_site: Site
) -> None:
    other = make_site(live_server.db, name="Other", origins=[ORIGIN])
    opened = [await VisitorClient.open(live_server.ws_url, ORIGIN) for _ in range(3)]
    for client in opened:
        await client.hello(live_site.public_key)
    fourth = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await fourth.send({"t": "hello", "v": 1, "site": live_site.public_key,
                       "visitor": new_id("v_"), "stream": new_id("s_")})  # fmt: skip
    assert await closed_with(fourth) == 4430  # the site holds its cap of 3
    elsewhere = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await elsewhere.hello(other.public_key)  # another site is not affected
    opened.append(elsewhere)
    fifth = await VisitorClient.open(live_server.ws_url, ORIGIN)
    assert await closed_with(fifth) == 4430  # this address holds its cap of 4, before hello
    await opened.pop(0).close()
    again = await VisitorClient.open(live_server.ws_url, ORIGIN)  # a closed one frees its slot
    await again.hello(live_site.public_key)
    for client in [*opened, again]:
        await client.close()


async def test_without_its_key_a_known_visitor_id_becomes_a_fresh_visitor(
    live_server: ServerProcess, live_site: Site
) -> None:
    visitor = new_id("v_")
    owner = await VisitorClient.open(live_server.ws_url, ORIGIN)
    first = await owner.hello(live_site.public_key, visitor=visitor)
    assert first["visitor"] == visitor and first["key"].startswith("k_")
    await owner.close()
    last = first["key"][-1]
    altered = first["key"][:-1] + ("B" if last == "A" else "A")  # one character off
    for key in (None, "k_" + "x" * 43, altered):
        intruder = await VisitorClient.open(live_server.ws_url, ORIGIN)
        welcome = await intruder.hello(live_site.public_key, visitor=visitor, key=key)
        assert welcome["visitor"] != visitor and welcome["key"] != first["key"]
        await intruder.close()
    back = await VisitorClient.open(live_server.ws_url, ORIGIN)
    welcome = await back.hello(live_site.public_key, visitor=visitor, key=first["key"])
    assert (welcome["visitor"], welcome["key"]) == (visitor, first["key"])
    await back.close()


@pytest.fixture(scope="module")
def budget_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Site]]:
    db: Path = tmp_path_factory.mktemp("budgets") / "bpract.db"
    site = make_site(db, origins=[ORIGIN])
    env = {"BPRACT_CONN_RATE": "0.01", "BPRACT_CONN_BURST": "4",
           "BPRACT_ADDRESS_RATE": "0.01", "BPRACT_ADDRESS_BURST": "10"}  # fmt: skip
    with ServerProcess(db, env=env) as proc:
        yield proc, site


def signal(seq: int) -> dict[str, object]:
    return {"t": "signal", "seq": seq, "at": seq, "name": "x", "data": {}}


async def test_a_reconnect_does_not_refill_the_burst(
    budget_server: tuple[ServerProcess, Site],
) -> None:
    server, site = budget_server
    visitor, stream = new_id("v_"), new_id("s_")
    client = await VisitorClient.open(server.ws_url, ORIGIN)
    await client.hello(site.public_key, visitor=visitor, stream=stream)
    for seq in range(1, 5):
        await client.send(signal(seq))
    assert await client.acks(4) == [1, 2, 3, 4]
    key = client.key
    await client.close()
    again = await VisitorClient.open(server.ws_url, ORIGIN)
    await again.hello(site.public_key, visitor=visitor, stream=stream, key=key)
    await again.send(signal(5))
    refused = await again.recv()
    assert (refused["t"], refused["code"], refused["seq"]) == ("error", "rate_limited", 5)
    await again.close()


async def test_rotating_visitor_ids_share_the_address_budget(
    budget_server: tuple[ServerProcess, Site],
) -> None:
    server, site = budget_server
    answers: list[str] = []
    for _ in range(4):  # each a new visitor: 4 frames each would pass its own burst
        client = await VisitorClient.open(server.ws_url, ORIGIN)
        await client.hello(site.public_key)
        for seq in range(1, 5):
            await client.send(signal(seq))
            answers.append((await client.recv())["t"])
        await client.close()
    # the previous test spent 4 of the address's 10: 6 more pass, the other 10 are refused
    assert answers.count("ack") == 6 and answers.count("error") == 10
    assert rows(server.db, "SELECT count(*) FROM frames") == [(10,)]
