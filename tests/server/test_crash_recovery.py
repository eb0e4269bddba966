"""A server killed (SIGKILL) mid-stream and restarted: every frame is stored exactly once."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosed

from bpract.sites import Site
from server.conftest import ORIGIN, rows
from support.server import ServerProcess
from support.visitor import VisitorClient, new_id


@pytest.fixture
def server_env() -> dict[str, str]:
    # Enough rate for a thousand frames in flight when the server dies.
    return {"BPRACT_CONN_RATE": "10000", "BPRACT_CONN_BURST": "10000"}


def signal(seq: int) -> str:
    return json.dumps(
        {
            "t": "signal",
            "seq": seq,
            "at": seq,
            "session": "n_crash",
            "name": "tick",
            "data": {"n": seq},
        }
    )


class Outbox:
    """The client's side of at-least-once delivery: keep every frame until acked."""

    def __init__(self) -> None:
        self.unacked: dict[int, str] = {}

    def add(self, seq: int) -> str:
        self.unacked[seq] = signal(seq)
        return self.unacked[seq]

    def acked(self, frame: dict[str, object]) -> None:
        if frame["t"] == "ack":
            for seq in frame["seq"]:  # type: ignore[attr-defined]
                self.unacked.pop(seq, None)

    def stored_up_to(self, seq: int) -> None:
        for n in [n for n in self.unacked if n <= seq]:
            del self.unacked[n]


async def drain_until_closed(client: VisitorClient, outbox: Outbox) -> None:
    try:
        async with asyncio.timeout(15):
            while True:
                outbox.acked(json.loads(await client.ws.recv()))
    except ConnectionClosed:
        return


async def wait_all_acked(client: VisitorClient, outbox: Outbox) -> None:
    async with asyncio.timeout(20):
        while outbox.unacked:
            outbox.acked(await client.recv())


async def test_kill_and_restart_mid_stream_stores_every_frame_once(
    server: ServerProcess, site: Site
) -> None:
    visitor, stream, outbox = new_id("v_"), new_id("s_"), Outbox()
    site_key = site.public_key
    client = await VisitorClient.open(server.ws_url, ORIGIN)
    await client.hello(site_key, visitor=visitor, stream=stream)
    for seq in range(1, 51):
        await client.send(outbox.add(seq))
    await wait_all_acked(client, outbox)

    for seq in range(51, 1051):
        await client.send(outbox.add(seq))
    await asyncio.to_thread(server.kill)
    await drain_until_closed(client, outbox)
    in_doubt = len(outbox.unacked)
    assert in_doubt > 0, "the kill came too late to test anything"

    await asyncio.to_thread(server.start)
    client = await VisitorClient.open(server.ws_url, ORIGIN)
    welcome = await client.hello(site_key, visitor=visitor, stream=stream)
    assert 50 <= welcome["stored_seq"] <= 1050
    outbox.stored_up_to(welcome["stored_seq"])
    for seq in sorted(outbox.unacked):  # resend in order, duplicates included
        await client.send(outbox.unacked[seq])
    for seq in range(1051, 1101):
        await client.send(outbox.add(seq))
    await wait_all_acked(client, outbox)
    await client.close()

    stored = rows(
        server.db,
        "SELECT seq, count(*) FROM frames WHERE visitor = ? GROUP BY seq ORDER BY seq",
        visitor,
    )
    assert stored == [(n, 1) for n in range(1, 1101)]
    sig = rows(
        server.db, "SELECT count(*), count(DISTINCT data) FROM signals WHERE visitor = ?", visitor
    )
    assert sig == [(1100, 1100)]
