"""The connection guard: resolve, check every address, connect to the checked address itself.

httpcore2 opens every TCP connection through a network backend.  These resolve
the host, refuse it if any of its addresses is not allowed, and connect to an
address they checked, so a name cannot answer a public address to the check and
a private one to the connection.  TLS still names the original host (httpcore2
passes it to ``start_tls`` as the server name), and so does the ``Host`` header.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable

import anyio
import httpcore2

from bpract.net.addresses import Allowlist, forbidden_kind
from bpract.net.errors import TargetRefusedError
from bpract.net.resolver import Resolver, SystemResolver

__all__ = ["GuardedBackend", "SyncGuardedBackend", "refuse_unless_allowed"]

#: httpcore2's socket option type (not exported by it).
SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


def refuse_unless_allowed(
    allowlist: Allowlist, host: str, port: int, addresses: list[str], *, literal: bool
) -> list[str]:
    """``addresses`` if every one may be reached for ``host:port``, else TargetRefusedError."""
    if not addresses:
        raise httpcore2.ConnectError(f"{host}: name not resolved")
    for address in addresses:
        if not allowlist.permits(host, port, ipaddress.ip_address(address)):
            shown = host if literal else f"{host} ({address})"
            raise TargetRefusedError(
                f"{shown} is a {forbidden_kind(address)} address; outbound calls to it are"
                " refused unless it is allowed (BPRACT_OUTBOUND_ALLOW)"
            )
    return addresses


class GuardedBackend(httpcore2.AsyncNetworkBackend):
    def __init__(
        self,
        allowlist: Allowlist,
        *,
        resolver: Resolver | None = None,
        inner: httpcore2.AsyncNetworkBackend | None = None,
    ) -> None:
        self.allowlist = allowlist
        self.resolver: Resolver = resolver or SystemResolver()
        self._inner = inner or httpcore2.AnyIOBackend()

    async def checked(self, host: str, port: int, limit: float | None = None) -> list[str]:
        """The addresses of ``host``, every one allowed; :class:`TargetRefusedError` if not."""
        literal = _literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                with anyio.fail_after(limit):
                    addresses = await self.resolver.resolve(host, port)
            except TimeoutError:
                raise httpcore2.ConnectTimeout(f"{host}: name resolution timed out") from None
            except OSError as exc:
                raise httpcore2.ConnectError(f"{host}: name not resolved ({exc})") from None
        return refuse_unless_allowed(
            self.allowlist, host, port, addresses, literal=literal is not None
        )

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's interface
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        options = list(socket_options or ())
        error: Exception | None = None
        for address in await self.checked(host, port, timeout):
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=options,
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 - httpcore2's interface
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise TargetRefusedError(f"unix socket {path}: outbound calls use TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class SyncGuardedBackend(httpcore2.NetworkBackend):
    """The same guard for blocking clients (the system resolver, then the checked address)."""

    def __init__(
        self, allowlist: Allowlist, *, inner: httpcore2.NetworkBackend | None = None
    ) -> None:
        self.allowlist = allowlist
        self._inner = inner or httpcore2.SyncBackend()

    def checked(self, host: str, port: int) -> list[str]:
        literal = _literal(host)
        if literal is not None:
            addresses = [literal]
        else:
            try:
                found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise httpcore2.ConnectError(f"{host}: name not resolved ({exc})") from None
            addresses = list(dict.fromkeys(str(f[4][0]).split("%", 1)[0] for f in found))
        return refuse_unless_allowed(
            self.allowlist, host, port, addresses, literal=literal is not None
        )

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore2.NetworkStream:
        options = list(socket_options or ())
        error: Exception | None = None
        for address in self.checked(host, port):
            try:
                return self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=options,
                )
            except (httpcore2.ConnectError, httpcore2.ConnectTimeout) as exc:
                error = exc
        assert error is not None
        raise error

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore2.NetworkStream:
        raise TargetRefusedError(f"unix socket {path}: outbound calls use TCP only")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
