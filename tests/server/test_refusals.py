"""Every refusal of the visitor socket, with its defined answer (docs/protocol.md, Refusals)."""

from __future__ import annotations

import asyncio
import json

import pytest
from websockets.exceptions import ConnectionClosed

from bpract.sites import Site, user_hash
from server.conftest import ORIGIN, rows
from support.eventually import eventually
from support.server import ServerProcess
from support.visitor import VisitorClient, hello_frame, new_id


@pytest.fixture(scope="module")
def live_env() -> dict[str, str]:
    return {"BPRACT_HELLO_TIMEOUT": "1"}


async def closed_with(client: VisitorClient) -> tuple[int, str]:
    """Read until the server closes; its close code and reason."""
    with pytest.raises(ConnectionClosed) as info:
        async with asyncio.timeout(10):
            while True:
                await client.ws.recv()
    assert info.value.rcvd is not None, "the server did not send a close frame"
    return info.value.rcvd.code, info.value.rcvd.reason


async def welcomed(server: ServerProcess, site: Site) -> VisitorClient:
    client = await VisitorClient.open(server.ws_url, ORIGIN)
    await client.hello(site.public_key)
    return client


async def still_serving(client: VisitorClient) -> None:
    await client.send({"t": "ping"})
    assert await client.recv() == {"t": "pong"}


@pytest.mark.parametrize(
    ("payload", "code", "mentions"),
    [
        ("not json{", "malformed", "JSON"),
        ("[1, 2]", "malformed", "array"),
        ('"a string"', "malformed", "str"),
        ('{"t": "teleport", "seq": 1}', "unknown_type", "teleport"),
        ('{"seq": 1, "at": 1}', "invalid", "`t`"),
        ('{"t": "signal", "at": 1, "name": "x", "data": {}}', "invalid", "`seq`"),
        ('{"t": "signal", "seq": "one", "at": 1, "name": "x"}', "invalid", "$.seq"),
        ('{"t": "signal", "seq": 0, "at": 1, "name": "x"}', "invalid", "$.seq"),
        (
            '{"t": "outcome", "seq": 1, "at": 1, "outreach": "o_x", "kind": "liked"}',
            "invalid",
            "$.kind",
        ),
        ('{"t": "signal", "seq": 1, "at": 1, "name": "x", "data": []}', "invalid", "$.data"),
    ],
)
async def test_bad_frames_get_an_error_and_the_connection_keeps_serving(
    live_server: ServerProcess, live_site: Site, payload: str, code: str, mentions: str
) -> None:
    client = await welcomed(live_server, live_site)
    await client.send(payload)
    error = await client.recv()
    assert error["t"] == "error" and error["code"] == code, error
    assert mentions in error["message"]
    await still_serving(client)
    await client.close()
    assert rows(
        live_server.db, "SELECT count(*) FROM frames WHERE visitor = ?", client.visitor
    ) == [(0,)]


async def test_second_hello_is_invalid(live_server: ServerProcess, live_site: Site) -> None:
    client = await welcomed(live_server, live_site)
    await client.send(hello_frame(live_site.public_key))
    error = await client.recv()
    assert (error["t"], error["code"]) == ("error", "invalid")
    await still_serving(client)
    await client.close()


@pytest.mark.parametrize(
    ("first", "code", "reason"),
    [
        ({"t": "ping"}, 4400, "bad_hello"),
        ("garbage", 4400, "bad_hello"),
        ({"t": "hello", "v": 1, "visitor": "v_abc", "stream": "s_abc"}, 4400, "bad_hello"),
        (
            {"t": "hello", "v": 2, "site": "pk_x", "visitor": "v_abc", "stream": "s_abc"},
            4401,
            "unsupported_version: supported: 1",
        ),
        (
            {
                "t": "hello",
                "v": 1,
                "site": "pk_nosuchsite000000000000",
                "visitor": "v_abc",
                "stream": "s_abc",
            },
            4404,
            "unknown_site",
        ),
    ],
)
async def test_bad_first_frames_close_with_their_code(
    live_server: ServerProcess,
    live_site: Site,
    first: dict[str, object] | str,
    code: int,
    reason: str,
) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await client.send(first)
    got_code, got_reason = await closed_with(client)
    assert got_code == code
    assert got_reason.startswith(reason)


@pytest.mark.parametrize(
    "origin", ["http://evil.example", "http://127.0.0.1:9999", "https://127.0.0.1:8765", None]
)
async def test_forbidden_origin_closes_4403(
    live_server: ServerProcess, live_site: Site, origin: str | None
) -> None:
    client = await VisitorClient.open(live_server.ws_url, origin)
    await client.send(hello_frame(live_site.public_key))
    assert await closed_with(client) == (4403, "forbidden_origin")


async def test_no_hello_in_time_closes_4408(live_server: ServerProcess) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    assert await closed_with(client) == (4408, "hello_timeout")


async def test_oversize_frame_closes_1009(live_server: ServerProcess, live_site: Site) -> None:
    client = await welcomed(live_server, live_site)
    big = {"t": "signal", "seq": 1, "at": 1, "name": "x", "data": {"pad": "x" * 17_000}}
    await client.send(big)
    code, _reason = await closed_with(client)
    assert code == 1009
    assert rows(
        live_server.db, "SELECT count(*) FROM frames WHERE visitor = ?", client.visitor
    ) == [(0,)]


async def test_frame_just_under_the_limit_is_accepted(
    live_server: ServerProcess, live_site: Site
) -> None:
    client = await welcomed(live_server, live_site)
    frame = {"t": "signal", "seq": 1, "at": 1, "name": "x", "data": {"a": "", "b": ""}}
    pad = 16_384 - len(json.dumps(frame)) - 10
    frame["data"] = {"a": "x" * (pad // 2), "b": "x" * (pad - pad // 2)}  # each string in bounds
    await client.send(frame)
    assert await client.acks(1) == [1]
    await client.close()


async def test_bad_identity_in_hello_is_rejected_and_dropped(
    live_server: ServerProcess, live_site: Site
) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    identity = {
        "user_id": "42",
        "user_hash": user_hash("sk_wrong", "42"),
        "traits": {"plan": "pro"},
    }
    await client.hello(live_site.public_key, identity=identity)
    error = await client.recv()
    assert (error["t"], error["code"]) == ("error", "identity_rejected")
    await still_serving(client)
    await client.close()
    assert rows(
        live_server.db, "SELECT user_id, traits FROM visitors WHERE id = ?", client.visitor
    ) == [(None, None)]


async def test_identify_with_wrong_hash_is_acked_and_rejected(
    live_server: ServerProcess, live_site: Site
) -> None:
    client = await welcomed(live_server, live_site)
    await client.send({"t": "identify", "seq": 1, "at": 1, "user_id": "7", "user_hash": "00" * 32})
    assert await client.recv() == {"t": "ack", "seq": [1]}
    error = await client.recv()
    assert (error["code"], error["seq"]) == ("identity_rejected", 1)
    await client.close()
    assert rows(live_server.db, "SELECT user_id FROM visitors WHERE id = ?", client.visitor) == [
        (None,)
    ]


async def test_fire_of_unknown_rule_is_acked_stored_and_refused(
    live_server: ServerProcess, live_site: Site
) -> None:
    client = await welcomed(live_server, live_site)
    fire = {
        "t": "fire",
        "seq": 1,
        "at": 1,
        "session": "n_abc",
        "rule": "no-such-rule",
        "rule_version": 1,
        "context": {},
    }
    await client.send(fire)
    assert await client.recv() == {"t": "ack", "seq": [1]}
    error = await client.recv()
    assert (error["code"], error["seq"]) == ("unknown_rule", 1)
    await client.close()
    assert rows(live_server.db, "SELECT t FROM frames WHERE visitor = ?", client.visitor) == [
        ("fire",)
    ]


async def test_flood_gets_rate_limited_then_closed_while_others_are_served(
    live_server: ServerProcess, live_site: Site
) -> None:
    flooder = await welcomed(live_server, live_site)
    calm = await welcomed(live_server, live_site)
    frames = [
        json.dumps({"t": "signal", "seq": n, "at": n, "name": "spam", "data": {}})
        for n in range(1, 1001)
    ]
    for frame in frames:
        try:
            await flooder.ws.send(frame)
        except ConnectionClosed:
            break
    acked: list[int] = []
    limited = 0
    with pytest.raises(ConnectionClosed) as info:
        async with asyncio.timeout(20):
            while True:
                frame = json.loads(await flooder.ws.recv())
                if frame["t"] == "ack":
                    acked.extend(frame["seq"])
                elif frame["t"] == "error":
                    assert frame["code"] == "rate_limited"
                    assert frame["seq"] not in acked
                    limited += 1
    assert info.value.rcvd is not None
    assert (info.value.rcvd.code, info.value.rcvd.reason) == (4429, "flood")
    assert len(acked) >= 200  # the burst, plus what refilled meanwhile
    assert limited >= 100  # the flood allowance
    assert len(acked) + limited < 1000  # cut off before the end
    stored = rows(
        live_server.db, "SELECT seq FROM frames WHERE visitor = ? ORDER BY seq", flooder.visitor
    )
    assert sorted(acked) == [s for (s,) in stored]
    # The other visitor on the same server is unaffected.
    await calm.send({"t": "signal", "seq": 1, "at": 1, "name": "calm", "data": {}})
    assert await calm.acks(1) == [1]
    await still_serving(calm)
    await calm.close()


NESTED = '{"t": "signal", "seq": 1, "at": 1, "name": "x", "data": {"a": ' + "[" * 1500 + "]" * 1500
HOSTILE = [
    pytest.param(NESTED + "}}", "nested too deeply", id="nested"),
    pytest.param(b'{"t": "signal", "seq": 1, "at": 1, "name": "\xff\xfe"}', "UTF-8", id="not-utf8"),
]


@pytest.mark.parametrize(("payload", "mentions"), HOSTILE)
async def test_hostile_frames_are_malformed_and_the_connection_keeps_serving(
    live_server: ServerProcess, live_site: Site, payload: str | bytes, mentions: str
) -> None:
    client = await welcomed(live_server, live_site)
    await client.ws.send(payload)
    error = await client.recv()
    assert error["t"] == "error" and error["code"] == "malformed", error
    assert mentions in error["message"]
    await still_serving(client)
    await client.close()


@pytest.mark.parametrize(("payload", "mentions"), HOSTILE)
async def test_a_hostile_first_frame_is_a_bad_hello(
    live_server: ServerProcess, payload: str | bytes, mentions: str
) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await client.ws.send(payload)
    assert await closed_with(client) == (4400, "bad_hello: not JSON"), mentions


async def fallback(server: ServerProcess, site: Site) -> VisitorClient:
    client = await VisitorClient.open(server.ws_url, ORIGIN)
    await client.hello(site.public_key, engine="server")
    return client


async def test_a_fallback_visitors_time_out_of_range_disturbs_no_one_else(
    live_server: ServerProcess, live_site: Site
) -> None:
    """A raw event at 1e20 once failed the writer's whole batch: 1011 for all in it."""
    calm = await welcomed(live_server, live_site)
    hostile = [await fallback(live_server, live_site) for _ in range(5)]
    count = 150
    frames = [
        json.dumps({"t": "signal", "seq": n, "at": n, "name": "calm", "data": {"n": n}})
        for n in range(1, count + 1)
    ]
    event = {"k": "page", "url": "https://w.example/p", "title": "P", "at": 1e20}
    for n, frame in enumerate(frames):
        await calm.ws.send(frame)
        if n % 30 == 0:
            for client in hostile:
                await client.send({"t": "event", "seq": 1 + n // 30, "at": 1, "event": event})
    assert sorted(await calm.acks(count)) == list(range(1, count + 1))
    await still_serving(calm)
    sent = list(range(1, 1 + (count - 1) // 30 + 1))
    for client in hostile:
        errors = [await client.recv_until("error") for _ in sent]
        assert [(e["code"], e["seq"]) for e, _ in errors] == [("invalid", n) for n in sent]
        await still_serving(client)
        await client.close()
    await calm.close()
    stored = rows(live_server.db, "SELECT seq FROM frames WHERE visitor = ?", calm.visitor)
    assert sorted(s for (s,) in stored) == list(range(1, count + 1))
    assert "Traceback" not in live_server.log()


def _signal(**fields: object) -> dict[str, object]:
    return {"t": "signal", "seq": 3, "at": 1, "name": "x", "data": {}, **fields}


OUT_OF_BOUNDS = [
    pytest.param(_signal(seq=2**53 + 1), None, "$.seq", id="seq-beyond-2**53"),
    pytest.param(_signal(at=2**63), 3, "$.at", id="at-beyond-int64"),
    pytest.param(_signal(at=-1), 3, "$.at", id="negative-at"),
    pytest.param(_signal(at=1e20), 3, "$.at", id="float-at"),
    pytest.param(_signal(name="x" * 65), 3, "$.name", id="long-name"),
    pytest.param(_signal(data={"n": 1e20}), 3, "`data`", id="huge-float-in-data"),
    pytest.param(_signal(data={"n": -(2**64)}), 3, "`data`", id="huge-int-in-data"),
    pytest.param(_signal(data={"s": "x" * 9000}), 3, "`data`", id="long-string-in-data"),
    pytest.param(_signal(data={"k" * 200: 1}), 3, "`data`", id="long-key-in-data"),
    pytest.param(_signal(data={str(n): n for n in range(1001)}), 3, "`data`", id="many-keys"),
    pytest.param(_signal(data={"a": [[[[[[[[1]]]]]]]]}), 3, "`data`", id="deep-data"),
    pytest.param(
        {"t": "fire", "seq": 3, "at": 1, "rule": "r", "rule_version": 2**64, "context": {}},
        3,
        "$.rule_version",
        id="huge-rule-version",
    ),
    pytest.param(
        {
            "t": "identify",
            "seq": 3,
            "at": 1,
            "user_id": "1",
            "user_hash": "h",
            "traits": {"t": [1e300]},
        },
        3,
        "`traits`",
        id="huge-trait",
    ),
    pytest.param(
        {"t": "event", "seq": 3, "at": 1, "event": {"k": "page", "at": -5}},
        3,
        "`event.at`",
        id="negative-event-time",
    ),
    pytest.param(
        {"t": "event", "seq": 3, "at": 1, "event": {"k": "page", "at": "soon"}},
        3,
        "`event.at`",
        id="event-time-not-a-number",
    ),
]


@pytest.mark.parametrize(("frame", "seq", "mentions"), OUT_OF_BOUNDS)
@pytest.mark.parametrize("engine", ["pyodide", "server"])
async def test_values_out_of_bounds_are_invalid_with_their_seq(
    live_server: ServerProcess,
    live_site: Site,
    frame: dict[str, object],
    seq: int | None,
    mentions: str,
    engine: str,
) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await client.hello(live_site.public_key, engine=engine)
    await client.send(frame)
    error, _ = await client.recv_until("error")
    assert (error["code"], error["seq"]) == ("invalid", seq), error
    assert mentions in error["message"]
    await still_serving(client)
    await client.close()
    assert rows(
        live_server.db, "SELECT count(*) FROM frames WHERE visitor = ?", client.visitor
    ) == [(0,)]


async def test_a_binary_frame_not_utf8_in_a_field_the_server_skips_is_malformed(
    live_server: ServerProcess, live_site: Site
) -> None:
    """msgspec skips unknown fields' strings unchecked; storing the frame as text then raised."""
    client = await welcomed(live_server, live_site)
    await client.ws.send(b'{"t": "signal", "seq": 1, "at": 1, "name": "x", "other": "\xf8"}')
    error = await client.recv()
    assert (error["t"], error["code"]) == ("error", "malformed"), error
    await still_serving(client)
    await client.close()


async def test_refusals_are_logged_once_without_content_or_traceback(
    live_server: ServerProcess, live_site: Site
) -> None:
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    await client.hello(live_site.public_key, engine="server")
    marker = "zq" + new_id("")
    seqs = [7_770_001, 7_770_002, 7_770_003]
    hostile = [
        _signal(seq=seqs[0], name=marker * 4),
        _signal(seq=seqs[1], data={marker: 1e20}),
        {"t": "event", "seq": seqs[2], "at": 1, "event": {"k": marker, "at": 1e20}},
    ]
    for frame in hostile:
        await client.send(frame)
    await client.send('{"t": "signal", "name": "' + marker)  # malformed
    for _ in range(len(hostile) + 1):
        await client.recv_until("error")
    await still_serving(client)
    await client.close()

    def logged() -> list[int]:
        lines = live_server.log().splitlines()
        return [sum(f"seq {seq})" in line for line in lines) for seq in seqs]

    eventually(logged, equals=[1, 1, 1], what="one log line per refusal")  # the log is a pipe
    assert marker not in live_server.log()
    assert "Traceback" not in live_server.log()


async def test_a_refused_hello_is_logged_once_without_content(
    live_server: ServerProcess, live_site: Site
) -> None:
    marker = "zq" + new_id("")
    client = await VisitorClient.open(live_server.ws_url, ORIGIN)
    frame = hello_frame(live_site.public_key)
    await client.send({**frame, "visitor": marker + "!", "lang": marker})  # not an id
    code, reason = await closed_with(client)
    assert code == 4400 and reason.startswith("bad_hello")

    def logged() -> int:
        return sum(
            f"visitor refused at hello: {reason}" in line for line in live_server.log().splitlines()
        )

    eventually(logged, equals=1, what="one log line for the refused hello")
    assert marker not in live_server.log()
    assert "Traceback" not in live_server.log()
