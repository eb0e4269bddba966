"""The visitor socket against a real server: welcome, acks, exactly-once storage, pings."""

from __future__ import annotations

import json

from bpract.sites import Site, user_hash
from server.conftest import ORIGIN, rows
from support.server import ServerProcess
from support.visitor import VisitorClient, new_id


def signal(
    seq: int, name: str = "attentive_dwell", session: str = "n_session0000000000000000"
) -> dict[str, object]:
    return {
        "t": "signal",
        "seq": seq,
        "at": 1_764_163_200_000 + seq,
        "session": session,
        "name": name,
        "data": {"path": "/pricing", "seconds": seq},
    }


async def test_welcome_carries_ruleset_stored_seq_and_config(
    live_server: ServerProcess, live_site: Site
) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    welcome = await client.hello(live_site.public_key)
    assert welcome["v"] == 1
    assert welcome["visitor"] == client.visitor and welcome["stream"] == client.stream
    assert welcome["stored_seq"] == 0
    assert welcome["ruleset"]["version"] == 0 and welcome["ruleset"]["rules"] == []
    assert welcome["config"] == {"time_scale": 1.0, "raw_events": False}
    await client.close()
    assert rows(
        live_server.db, "SELECT site_id, id FROM visitors WHERE id = ?", client.visitor
    ) == [(live_site.id, client.visitor)]


async def test_signals_are_acked_stored_and_recorded(
    live_server: ServerProcess, live_site: Site
) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await client.hello(live_site.public_key)
    session = new_id("n_")
    for seq in (1, 2, 3):
        await client.send(signal(seq, session=session))
    assert sorted(await client.acks(3)) == [1, 2, 3]
    await client.close()
    stored = rows(
        live_server.db,
        "SELECT seq, t, at_ms FROM frames WHERE visitor = ? ORDER BY seq",
        client.visitor,
    )
    assert stored == [
        (1, "signal", 1_764_163_200_001),
        (2, "signal", 1_764_163_200_002),
        (3, "signal", 1_764_163_200_003),
    ]
    sig = rows(
        live_server.db,
        "SELECT visitor, session, name, data FROM signals WHERE visitor = ? ORDER BY at_ms",
        client.visitor,
    )
    assert [s[2] for s in sig] == ["attentive_dwell"] * 3
    assert json.loads(str(sig[0][3])) == {"path": "/pricing", "seconds": 1}
    assert rows(
        live_server.db, "SELECT id, visitor FROM sessions WHERE visitor = ?", client.visitor
    ) == [(session, client.visitor)]


async def test_duplicate_seq_is_acked_again_and_stored_once(
    live_server: ServerProcess, live_site: Site
) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await client.hello(live_site.public_key)
    await client.send(signal(1))
    await client.send(signal(1))
    assert await client.acks(2) == [1, 1]
    await client.close()
    assert rows(
        live_server.db, "SELECT count(*) FROM frames WHERE visitor = ?", client.visitor
    ) == [(1,)]
    assert rows(
        live_server.db, "SELECT count(*) FROM signals WHERE visitor = ?", client.visitor
    ) == [(1,)]


async def test_out_of_order_seqs_are_all_stored_once(
    live_server: ServerProcess, live_site: Site
) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await client.hello(live_site.public_key)
    for seq in (3, 1, 5, 2, 4, 3, 1):
        await client.send(signal(seq))
    assert sorted(await client.acks(7)) == [1, 1, 2, 3, 3, 4, 5]
    await client.close()
    assert rows(
        live_server.db, "SELECT seq FROM frames WHERE visitor = ? ORDER BY seq", client.visitor
    ) == [(1,), (2,), (3,), (4,), (5,)]


async def test_reconnect_reports_the_contiguous_stored_seq(
    live_server: ServerProcess, live_site: Site
) -> None:
    visitor, stream = new_id("v_"), new_id("s_")
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await client.hello(live_site.public_key, visitor=visitor, stream=stream)
    for seq in (1, 2, 3, 5):
        await client.send(signal(seq))
    await client.acks(4)
    await client.close()
    again = await VisitorClient.open(live_server.ws_url, ORIGIN)
    welcome = await again.hello(live_site.public_key, visitor=visitor, stream=stream)
    # 4 is missing: the client must keep (and resend) 4 and 5.
    assert welcome["stored_seq"] == 3
    await again.send(signal(4))
    await again.acks(1)
    await again.close()
    third = await VisitorClient.open(live_server.ws_url, ORIGIN)
    assert (await third.hello(live_site.public_key, visitor=visitor, stream=stream))[
        "stored_seq"
    ] == 5
    other = await VisitorClient.open(live_server.ws_url, ORIGIN)
    assert (await other.hello(live_site.public_key, visitor=visitor))["stored_seq"] == 0
    await third.close()
    await other.close()


async def test_ping_is_answered_with_pong(live_server: ServerProcess, live_site: Site) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await client.hello(live_site.public_key)
    await client.send({"t": "ping"})
    assert await client.recv() == {"t": "pong"}
    await client.close()


async def test_verified_identity_is_recorded(live_server: ServerProcess, live_site: Site) -> None:
    identity = {
        "user_id": "42",
        "user_hash": user_hash(live_site.identity_secret, "42"),
        "traits": {"plan": "pro"},
    }
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await client.hello(live_site.public_key, identity=identity)
    await client.send({"t": "ping"})
    assert await client.recv() == {"t": "pong"}  # no identity_rejected error came first
    await client.close()
    assert rows(
        live_server.db, "SELECT user_id, traits FROM visitors WHERE id = ?", client.visitor
    ) == [("42", '{"plan": "pro"}')]


async def test_identify_frame_with_valid_hash_updates_the_visitor(
    live_server: ServerProcess, live_site: Site
) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await client.hello(live_site.public_key)
    frame = {
        "t": "identify",
        "seq": 1,
        "at": 1,
        "user_id": "7",
        "user_hash": user_hash(live_site.identity_secret, "7"),
        "traits": None,
    }
    await client.send(frame)
    assert await client.acks(1) == [1]
    await client.send({"t": "ping"})
    assert await client.recv() == {"t": "pong"}
    await client.close()
    assert rows(live_server.db, "SELECT user_id FROM visitors WHERE id = ?", client.visitor) == [
        ("7",)
    ]


async def test_message_frames_are_stored(live_server: ServerProcess, live_site: Site) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await client.hello(live_site.public_key)
    await client.send({"t": "message", "seq": 1, "at": 5, "text": "Hello?", "outreach": None})
    assert await client.acks(1) == [1]
    await client.close()
    (body,) = rows(
        live_server.db,
        "SELECT body FROM frames WHERE t = 'message' AND visitor = ?",
        client.visitor,
    )[0]
    assert json.loads(str(body))["text"] == "Hello?"
