"""The guarded client against real servers on 127.0.0.1: refusals, redirects, caps, timeouts."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import httpcore2
import pytest

from bpract.net import (
    NetSettings,
    Outbound,
    OutboundError,
    OutboundFailedError,
    OutboundTimeoutError,
    RedirectRefusedError,
    ResponseTooLargeError,
    TargetRefusedError,
    allowlist_for,
    guarded_http_sync,
)

from .conftest import Server


class Answers:
    """A resolver answering each host from a script: one answer list per call, the last kept."""

    def __init__(self, script: dict[str, list[list[str]]]) -> None:
        self.script = script
        self.calls: list[str] = []

    async def resolve(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        answers = self.script[host]
        return answers.pop(0) if len(answers) > 1 else answers[0]


class Recorder(httpcore2.AsyncNetworkBackend):
    """Records where connections go, then opens them for real (or refuses public ones)."""

    def __init__(self) -> None:
        self.hosts: list[str] = []
        self._real = httpcore2.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's interface
        local_address: str | None = None,
        socket_options: Iterable[object] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        self.hosts.append(host)
        if not host.startswith("127."):
            raise httpcore2.ConnectError(f"{host}: no route in tests")
        return await self._real.connect_tcp(host, port, timeout=timeout)

    async def sleep(self, seconds: float) -> None:
        await self._real.sleep(seconds)


async def test_loopback_is_refused_unless_allowed(server: Server) -> None:
    server.text("/", b"internal")
    outbound = Outbound()
    with pytest.raises(TargetRefusedError, match="loopback"):
        await outbound.fetch("GET", server.url + "/")
    await outbound.aclose()
    assert server.seen == []

    allowed = Outbound(NetSettings(allow=server.url))
    assert (await allowed.fetch("GET", server.url + "/")).body == b"internal"
    await allowed.aclose()


async def test_an_origin_allows_that_port_only(make_server: Callable[[], Server]) -> None:
    one, two = make_server(), make_server()
    one.text("/", b"one")
    two.text("/", b"two")
    outbound = Outbound(allow=[one.url])
    assert (await outbound.fetch("GET", one.url + "/")).body == b"one"
    with pytest.raises(TargetRefusedError):
        await outbound.fetch("GET", two.url + "/")
    await outbound.aclose()
    assert two.seen == []


async def test_names_resolving_to_private_addresses_are_refused(server: Server) -> None:
    server.text("/", b"internal")
    resolver = Answers({"help.example": [["8.8.8.8", "127.0.0.1"]]})
    outbound = Outbound(resolver=resolver)
    with pytest.raises(TargetRefusedError, match=r"help.example \(127.0.0.1\) is a loopback"):
        await outbound.fetch("GET", f"http://help.example:{server.port}/")
    await outbound.aclose()
    assert server.seen == []


async def test_the_connection_goes_to_the_checked_address(server: Server) -> None:
    """A name answering public to the check and private afterwards cannot reach the private
    address: the connection uses the very address that was checked, not a new lookup."""
    server.text("/", b"internal")
    resolver = Answers({"rebind.example": [["8.8.8.8"], ["127.0.0.1"]]})
    recorder = Recorder()
    outbound = Outbound(resolver=resolver, inner=recorder)
    with pytest.raises(OutboundFailedError):
        await outbound.fetch("GET", f"http://rebind.example:{server.port}/")
    assert recorder.hosts == ["8.8.8.8"]  # the checked address, never the name
    with pytest.raises(TargetRefusedError):  # the next connection checks the new answer
        await outbound.fetch("GET", f"http://rebind.example:{server.port}/")
    await outbound.aclose()
    assert recorder.hosts == ["8.8.8.8"]
    assert server.seen == []


async def test_an_allowed_name_keeps_its_host_header(server: Server) -> None:
    server.text("/", b"hello")
    resolver = Answers({"help.intranet": [["127.0.0.1"]]})
    outbound = Outbound(allow=["help.intranet"], resolver=resolver)
    got = await outbound.fetch("GET", f"http://help.intranet:{server.port}/")
    await outbound.aclose()
    assert got.body == b"hello"
    assert server.seen == [("GET", "/", f"help.intranet:{server.port}")]


async def test_redirects_stay_on_the_origin(make_server: Callable[[], Server]) -> None:
    home, internal = make_server(), make_server()
    internal.text("/secret", b"internal data")
    home.redirect("/old", "/new")
    home.text("/new", b"moved here")
    home.redirect("/away", internal.url + "/secret")
    home.redirect("/loop", "/loop")
    outbound = Outbound(allow=[home.url, internal.url])  # both reachable: the origin decides
    got = await outbound.fetch("GET", home.url + "/old")
    assert (got.url, got.body) == (home.url + "/new", b"moved here")
    with pytest.raises(RedirectRefusedError, match="another origin"):
        await outbound.fetch("GET", home.url + "/away")
    with pytest.raises(RedirectRefusedError, match="more than 5 redirects"):
        await outbound.fetch("GET", home.url + "/loop")
    await outbound.aclose()
    assert internal.seen == []
    assert len([s for s in home.seen if s[1] == "/loop"]) == 6


async def test_the_size_cap_stops_reading(server: Server) -> None:
    big = b"x" * 100_000
    server.text("/sized", big)
    server.routes["/unsized"] = lambda: (200, {"Connection": "close"}, big)  # read to EOF
    outbound = Outbound(NetSettings(allow=server.url, max_bytes=10_000))
    with pytest.raises(ResponseTooLargeError, match="100000 bytes"):
        await outbound.fetch("GET", server.url + "/sized")
    with pytest.raises(ResponseTooLargeError, match="larger than the cap of 10000"):
        await outbound.fetch("GET", server.url + "/unsized")
    small = await outbound.fetch("GET", server.url + "/sized", max_bytes=200_000)
    await outbound.aclose()
    assert small.body == big


async def test_a_silent_server_times_out(server: Server) -> None:
    def hang() -> tuple[int, dict[str, str], bytes]:
        server.release.wait(10)
        return 200, {"Content-Length": "0"}, b""

    server.routes["/slow"] = hang
    reading = Outbound(NetSettings(allow=server.url, read_timeout=0.2))
    with pytest.raises(OutboundTimeoutError, match="timed out"):
        await reading.fetch("GET", server.url + "/slow")
    await reading.aclose()
    total = Outbound(NetSettings(allow=server.url, total_timeout=0.2))
    with pytest.raises(OutboundTimeoutError, match=r"no complete answer in 0\.2 s"):
        await total.fetch("GET", server.url + "/slow")
    await total.aclose()


async def test_only_http_urls() -> None:
    outbound = Outbound()
    for url in ("file:///etc/passwd", "gopher://x/", "http:///nohost"):
        with pytest.raises(OutboundError, match="http"):
            await outbound.fetch("GET", url)
    await outbound.aclose()


def test_the_blocking_client_has_the_same_guard(server: Server) -> None:
    server.text("/", b"internal")
    with guarded_http_sync() as http, pytest.raises(TargetRefusedError, match="loopback"):
        http.get(server.url + "/")
    assert server.seen == []
    with guarded_http_sync(allowlist=allowlist_for(NetSettings(), server.url)) as http:
        assert http.get(server.url + "/").content == b"internal"


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1]:9/",
        "http://[::ffff:7f00:1]:9/",  # IPv4-mapped 127.0.0.1
        "http://localhost:9/",
        "http://127.1:9/",  # the spellings getaddrinfo reads as 127.0.0.1
        "http://0x7f000001:9/",
        "http://2130706433:9/",
        "http://[fe80::1]:9/",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
async def test_spellings_of_internal_addresses_are_refused(url: str) -> None:
    outbound = Outbound()
    with pytest.raises(TargetRefusedError, match=r"is a (loopback|link-local) address"):
        await outbound.fetch("GET", url)
    await outbound.aclose()
