"""The executor against real HTTP servers on 127.0.0.1, and once against the demo store's API."""

from __future__ import annotations

import json
import logging
import socket
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from actions.conftest import Api, Seen, json_headers
from bpract.actions.executor import (
    ActionCallError,
    Auth,
    Call,
    Limits,
    action_outbound,
    build_url,
    execute,
)
from bpract.net import NetSettings, Outbound
from demo.conftest import API_KEY, DemoServer, _start

FAST = Limits(backoff=0.01, max_backoff=0.05)
OK = b'{"ok":true}'


@pytest.fixture
def api(api_server: Callable[[], Api]) -> Api:
    return api_server()


@pytest.fixture
async def outbound(api: Api) -> AsyncIterator[Outbound]:
    client = action_outbound(allow=[api.url], limits=FAST)
    yield client
    await client.aclose()


def read(api: Api, path: str, **params: str | int) -> Call:
    return Call(method="GET", base_url=f"{api.url}/api", path=path, path_params=params, kind="read")


def write(api: Api, path: str, key: str | None = None) -> Call:
    return Call(
        method="POST",
        base_url=f"{api.url}/api",
        path=path,
        kind="write",
        body={"amount_cents": 500},
        idempotency_key=key,
    )


# What comes back


async def test_a_json_answer_is_decoded_with_status_time_and_one_attempt(
    api: Api, outbound: Outbound
) -> None:
    api.json("/api/orders/o_1?verbose=true&tag=a&tag=b", b'{"status":"shipped"}')
    call = replace(
        read(api, "/orders/{order_id}", order_id="o_1"), query={"verbose": True, "tag": ["a", "b"]}
    )
    result = await execute(call, outbound, limits=FAST)
    assert (result.status, result.json, result.text, result.attempts) == (
        200, {"status": "shipped"}, None, 1,
    )  # fmt: skip
    assert result.ok and result.elapsed > 0
    assert api.seen[0].headers["accept"] == "application/json"


async def test_a_body_that_is_not_json_comes_back_as_capped_text(
    api: Api, outbound: Outbound
) -> None:
    body = b"x" * 10_000
    api.routes["/api/page"] = [(500, {"Content-Length": str(len(body))}, body)]
    call = Call(method="GET", base_url=f"{api.url}/api", path="/page", kind="write")
    result = await execute(call, outbound, limits=FAST)
    assert (result.status, result.json, result.text) == (500, None, "x" * FAST.max_text)
    assert not result.ok


async def test_a_write_sends_its_body_as_json(api: Api, outbound: Outbound) -> None:
    api.json("/api/refunds", OK)
    await execute(write(api, "/refunds", "k-1"), outbound, limits=FAST)
    (seen,) = api.seen
    assert (seen.method, json.loads(seen.body)) == ("POST", {"amount_cents": 500})
    assert seen.headers["content-type"] == "application/json"
    assert seen.headers["idempotency-key"] == "k-1"


# Where a call may go


async def test_a_loopback_api_is_refused_unless_allow_listed(api: Api) -> None:
    api.json("/api/ping", OK)
    refused = action_outbound(limits=FAST)
    allowed = action_outbound(NetSettings(allow=api.url), limits=FAST)
    try:
        with pytest.raises(ActionCallError, match="loopback") as caught:
            await execute(read(api, "/ping"), refused, limits=FAST)
        assert caught.value.reason == "target_refused"
        assert caught.value.attempts == 1  # a refusal is not retried
        assert api.seen == []
        assert (await execute(read(api, "/ping"), allowed, limits=FAST)).json == {"ok": True}
    finally:
        await refused.aclose()
        await allowed.aclose()


async def test_a_redirect_to_another_host_is_not_followed(
    api: Api, api_server: Callable[[], Api], outbound: Outbound
) -> None:
    elsewhere = api_server()
    elsewhere.json("/steal", OK)
    api.routes["/api/refunds"] = [(307, {"Location": f"{elsewhere.url}/steal"}, b"")]
    with pytest.raises(ActionCallError, match="redirect") as caught:
        await execute(write(api, "/refunds", "k"), outbound, limits=FAST)
    assert caught.value.reason == "redirect_refused"
    assert elsewhere.seen == []
    assert len(api.seen) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_no_redirect_is_followed_even_within_the_api(
    status: int, api: Api, outbound: Outbound
) -> None:
    api.routes["/api/old"] = [(status, {"Location": "/api/new", "Content-Length": "0"}, b"")]
    api.json("/api/new", OK)
    with pytest.raises(ActionCallError) as caught:
        await execute(read(api, "/old"), outbound, limits=FAST)
    assert caught.value.reason == "redirect_refused"
    assert [s.path for s in api.seen] == ["/api/old"]


async def test_a_redirect_status_without_location_is_refused_too(
    api: Api, outbound: Outbound
) -> None:
    api.routes["/api/old"] = [(302, {"Content-Length": "0"}, b"")]
    with pytest.raises(ActionCallError) as caught:
        await execute(read(api, "/old"), outbound, limits=FAST)
    assert caught.value.reason == "redirect_refused"


async def test_an_outbound_that_follows_redirects_is_refused(api: Api) -> None:
    follows = Outbound(allow=[api.url])
    try:
        with pytest.raises(ActionCallError, match="no redirect"):
            await execute(read(api, "/ping"), follows, limits=FAST)
    finally:
        await follows.aclose()
    assert api.seen == []


# Size and time


async def test_a_20_mb_body_is_refused_at_the_cap(api: Api, outbound: Outbound) -> None:
    huge = b"0" * (20 * 1024 * 1024)
    api.routes["/api/declared"] = [(200, json_headers(huge), huge)]
    api.routes["/api/streamed"] = [(200, {"Content-Type": "application/json"}, huge)]
    for path in ("/declared", "/streamed"):  # the length said up front, or only found reading
        with pytest.raises(ActionCallError, match="size cap") as caught:
            await execute(read(api, path), outbound, limits=FAST)
        assert caught.value.reason == "too_large"
        assert caught.value.attempts == 1


async def test_a_slow_answer_times_out_and_is_not_retried(api: Api) -> None:
    def slow(_: Seen) -> tuple[int, dict[str, str], bytes]:
        api.release.wait(10)
        return 200, json_headers(OK), OK

    api.routes["/api/slow"] = slow
    limits = Limits(read_timeout=0.3, total_timeout=0.6, backoff=0.01)
    outbound = action_outbound(allow=[api.url], limits=limits)
    try:
        with pytest.raises(ActionCallError, match="did not answer in time") as caught:
            await execute(read(api, "/slow"), outbound, limits=limits)
    finally:
        api.release.set()
        await outbound.aclose()
    assert (caught.value.reason, caught.value.attempts, len(api.seen)) == ("timeout", 1, 1)


# Path parameters never leave the declared path


@pytest.mark.parametrize(
    "value",
    [
        "../admin",
        "..",
        ".",
        "",
        "a/b",
        "/etc/passwd",
        "%2e%2e",
        "%2F",
        "..%2fadmin",
        "http://evil.example/steal",
        "//evil.example",
        "a\\b",
        "a\r\nHost: evil",
        "x" * 201,
    ],
)
async def test_a_path_parameter_that_could_escape_is_refused(
    value: str, api: Api, outbound: Outbound
) -> None:
    with pytest.raises(ActionCallError, match="path parameter 'order_id'") as caught:
        await execute(read(api, "/orders/{order_id}", order_id=value), outbound, limits=FAST)
    assert caught.value.reason == "invalid_call"
    assert api.seen == []


@pytest.mark.parametrize(
    ("value", "sent"),
    [
        ("o_1", "/api/orders/o_1"),
        ("a?b=1#c", "/api/orders/a%3Fb%3D1%23c"),
        ("http:evil", "/api/orders/http%3Aevil"),
        ("…ü 1", "/api/orders/%E2%80%A6%C3%BC%201"),
        (42, "/api/orders/42"),
    ],
)
async def test_other_characters_are_encoded_within_one_segment(
    value: str | int, sent: str, api: Api, outbound: Outbound
) -> None:
    api.json(sent, OK)
    result = await execute(read(api, "/orders/{order_id}", order_id=value), outbound, limits=FAST)
    assert result.json == {"ok": True}
    assert [s.path for s in api.seen] == [sent]


@pytest.mark.parametrize(
    ("base", "path", "params"),
    [
        ("http://127.0.0.1:1/api", "/../admin", {}),
        ("http://127.0.0.1:1/api", "orders", {}),
        ("http://127.0.0.1:1/api", "/orders?all=1", {}),
        ("http://127.0.0.1:1/api", "/orders/%2e%2e", {}),
        ("http://127.0.0.1:1/api", "/orders/{id}", {}),  # a parameter missing
        ("http://127.0.0.1:1/api", "/orders", {"id": "1"}),  # one not in the template
        ("http://127.0.0.1:1/api", "/orders/{id", {}),
        ("http://127.0.0.1:1/api?k=1", "/orders", {}),
        ("http://user:pw@127.0.0.1:1/api", "/orders", {}),
        ("http://127.0.0.1:1/a/../b", "/orders", {}),
        ("ftp://127.0.0.1:1/api", "/orders", {}),
    ],
)
def test_a_call_that_could_leave_its_base_is_refused_before_sending(
    base: str, path: str, params: dict[str, str]
) -> None:
    call = Call(method="GET", base_url=base, path=path, path_params=params, kind="read")
    with pytest.raises(ActionCallError) as caught:
        build_url(call)
    assert caught.value.reason == "invalid_call"


def test_the_url_stays_under_the_base_path() -> None:
    call = Call(
        method="GET",
        base_url="https://api.example.com/v1/",
        path="/accounts/{id}/orders",
        path_params={"id": "u 1"},
        query={"since": "2026-01-01"},
        kind="read",
    )
    assert build_url(call) == "https://api.example.com/v1/accounts/u%201/orders?since=2026-01-01"


@pytest.mark.parametrize(
    "change",
    [
        {"method": "TRACE"},
        {"headers": {"Host": "evil.example"}},
        {"headers": {"Idempotency-Key": "mine"}},
        {"headers": {"X-Note": "a\r\nX-Evil: 1"}},
        {"headers": {"Bad Name": "x"}},
        {"idempotency_key": ""},
        {"idempotency_key": "k\n1"},
        {"body": {"a": 1}},  # a GET with a body
    ],
)
async def test_calls_we_may_not_make_are_refused(
    change: dict[str, object], api: Api, outbound: Outbound
) -> None:
    call = replace(read(api, "/ping"), **change)
    with pytest.raises(ActionCallError) as caught:
        await execute(call, outbound, limits=FAST)
    assert caught.value.reason == "invalid_call"
    assert api.seen == []


# Retries


async def test_a_read_is_retried_on_503_and_429_then_succeeds(api: Api, outbound: Outbound) -> None:
    api.routes["/api/ping"] = [
        (503, {"Content-Length": "0"}, b""),
        (429, {"Content-Length": "0", "Retry-After": "0"}, b""),
        (200, json_headers(OK), OK),
    ]
    result = await execute(read(api, "/ping"), outbound, limits=FAST)
    assert (result.status, result.attempts, len(api.seen)) == (200, 3, 3)


async def test_retries_are_bounded_and_the_last_answer_returned(
    api: Api, outbound: Outbound
) -> None:
    api.routes["/api/ping"] = [(503, {"Content-Length": "0"}, b"")]
    result = await execute(read(api, "/ping"), outbound, limits=FAST)
    assert (result.status, result.attempts, len(api.seen)) == (503, FAST.attempts, FAST.attempts)


async def test_a_long_retry_after_is_capped_by_the_backoff_limit(
    api: Api, outbound: Outbound
) -> None:
    api.routes["/api/ping"] = [
        (429, {"Content-Length": "0", "Retry-After": "3600"}, b""),
        (200, json_headers(OK), OK),
    ]
    limits = Limits(backoff=0.01, max_backoff=0.2)
    result = await execute(read(api, "/ping"), outbound, limits=limits)
    assert (result.status, result.attempts) == (200, 2)
    assert 0.2 <= result.elapsed < 5  # waited the cap, not the hour asked


@pytest.mark.parametrize("status", [400, 404, 409, 422])
async def test_a_client_error_is_not_retried(status: int, api: Api, outbound: Outbound) -> None:
    api.routes["/api/ping"] = [(status, json_headers(OK), OK)]
    result = await execute(read(api, "/ping"), outbound, limits=FAST)
    assert (result.status, result.attempts, len(api.seen)) == (status, 1, 1)


async def test_a_write_without_an_idempotency_key_is_never_retried(
    api: Api, outbound: Outbound
) -> None:
    api.routes["/api/refunds"] = [(503, {"Content-Length": "0"}, b""), (200, json_headers(OK), OK)]
    result = await execute(write(api, "/refunds"), outbound, limits=FAST)
    assert (result.status, result.attempts, len(api.seen)) == (503, 1, 1)
    assert "idempotency-key" not in api.seen[0].headers


async def test_a_write_with_an_idempotency_key_is_retried_with_the_same_key(
    api: Api, outbound: Outbound
) -> None:
    api.routes["/api/refunds"] = [(502, {"Content-Length": "0"}, b""), (200, json_headers(OK), OK)]
    result = await execute(write(api, "/refunds", "pa_123"), outbound, limits=FAST)
    assert (result.status, result.attempts) == (200, 2)
    assert [s.headers["idempotency-key"] for s in api.seen] == ["pa_123", "pa_123"]
    assert api.seen[0].body == api.seen[1].body


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    yield port  # nothing listens there now


@pytest.mark.parametrize(("kind", "key", "attempts"), [("read", None, 3), ("write", None, 1),
                                                        ("write", "k", 3)])  # fmt: skip
async def test_a_connection_error_is_retried_only_when_safe(
    kind: str, key: str | None, attempts: int, closed_port: int
) -> None:
    base = f"http://127.0.0.1:{closed_port}"
    outbound = action_outbound(allow=[base], limits=FAST)
    call = Call(method="POST", base_url=base, path="/x", kind=kind, idempotency_key=key)
    try:
        with pytest.raises(ActionCallError, match="could not be reached") as caught:
            await execute(call, outbound, limits=FAST)
    finally:
        await outbound.aclose()
    assert (caught.value.reason, caught.value.attempts) == ("unreachable", attempts)


# Secrets


async def test_the_auth_header_is_sent_but_never_logged(
    api: Api, outbound: Outbound, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk_live_0123456789abcdef"
    api.json("/api/accounts/u_1", OK)
    call = replace(
        read(api, "/accounts/{id}", id="u_1"),
        auth=Auth(variable="SHOP_API_KEY"),
        headers={"X-Shop": "north"},
    )
    with caplog.at_level(logging.DEBUG):
        await execute(call, outbound, limits=FAST, environ={"SHOP_API_KEY": secret})
    assert api.seen[0].headers["authorization"] == f"Bearer {secret}"
    assert api.seen[0].headers["x-shop"] == "north"
    assert secret not in caplog.text
    ours = [r.getMessage() for r in caplog.records if r.name == "bpract.actions"]
    assert ours == [m for m in ours if "127.0.0.1" in m and "u_1" not in m]
    assert any("status 200" in m for m in ours)


async def test_an_api_key_header_reads_the_process_environment(
    api: Api, outbound: Outbound, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHOP_KEY", "k-1")
    api.json("/api/ping", OK)
    auth = Auth(variable="SHOP_KEY", header="X-Api-Key", prefix="")
    await execute(replace(read(api, "/ping"), auth=auth), outbound, limits=FAST)
    assert api.seen[0].headers["x-api-key"] == "k-1"


async def test_a_missing_secret_is_refused_before_sending(api: Api, outbound: Outbound) -> None:
    call = replace(read(api, "/ping"), auth=Auth(variable="NOT_SET_ANYWHERE"))
    with pytest.raises(ActionCallError, match="NOT_SET_ANYWHERE is not set") as caught:
        await execute(call, outbound, limits=FAST, environ={})
    assert caught.value.reason == "auth_missing"
    assert api.seen == []


# The demo store's API, for real


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[DemoServer]:
    yield from _start(tmp_path / "demo.sqlite3")


async def test_a_demo_refund_sent_twice_with_one_key_is_made_once(demo: DemoServer) -> None:
    outbound = action_outbound(allow=[demo.url])
    call = Call(
        method="POST",
        base_url=f"{demo.url}/api",
        path="/accounts/{account_id}/refunds",
        path_params={"account_id": "u_1001"},
        body={"amount_cents": 500, "reason": "damaged item"},
        auth=Auth(variable="DEMO_API_KEY"),
        kind="write",
        idempotency_key="pa_refund_1",
    )
    environ = {"DEMO_API_KEY": API_KEY}
    try:
        first = await execute(call, outbound, environ=environ)
        second = await execute(call, outbound, environ=environ)
    finally:
        await outbound.aclose()
    assert (first.status, second.status) == (200, 200)
    assert isinstance(first.json, dict)
    assert first.json == second.json and first.json["amount_cents"] == 500
    with sqlite3.connect(demo.db) as conn:
        refunds = conn.execute(
            "SELECT amount_cents FROM refunds WHERE account_id = 'u_1001'"
        ).fetchall()
    assert refunds == [(500,)]
    with demo.client() as client:
        account = client.get("/api/accounts/u_1001").json()
    assert account["last_charge"]["refunded_cents"] == 500
