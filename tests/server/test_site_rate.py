"""The per-site rate: all connections of one site share it; other sites are not affected."""

from __future__ import annotations

import pytest

from bpract.sites import Site
from server.conftest import ORIGIN
from support.server import ServerProcess
from support.sites import make_site
from support.visitor import VisitorClient


@pytest.fixture(scope="module")
def live_env() -> dict[str, str]:
    return {"BPRACT_SITE_RATE": "0.01", "BPRACT_SITE_BURST": "6"}


async def test_site_rate_is_shared_by_its_connections(
    live_server: ServerProcess, live_site: Site
) -> None:
    other_site = make_site(live_server.db, name="Other", origins=[ORIGIN])
    a = await VisitorClient.open(live_server.ws_url, ORIGIN)
    b = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await a.hello(live_site.public_key)
    await b.hello(live_site.public_key)
    answers: list[dict[str, object]] = []
    for seq in range(1, 5):
        for client in (a, b):
            await client.send({"t": "signal", "seq": seq, "at": seq, "name": "x", "data": {}})
            answers.append(await client.recv())
    acks = [f for f in answers if f["t"] == "ack"]
    refused = [f for f in answers if f["t"] == "error"]
    assert len(acks) == 6 and len(refused) == 2
    assert all(f["code"] == "rate_limited" and f["seq"] == 4 for f in refused)
    other = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await other.hello(other_site.public_key)
    await other.send({"t": "signal", "seq": 1, "at": 1, "name": "x", "data": {}})
    assert await other.recv() == {"t": "ack", "seq": [1]}
    for client in (a, b, other):
        await client.close()
