"""The connection guard: resolve, check every address, connect to the checked address itself.

httpcore2 opens every TCP connection through a network backend.  This one resolves
the host, refuses it if any of its addresses is not allowed, and connects to an
address it checked, so a name cannot answer a public address to the check and a
private one to the connection.  TLS still names the original host (httpcore2
passes it to ``start_tls`` as the server name), and so does the ``Host`` header.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

import anyio
import httpcore2

from bpract.net.addresses import Allowlist, forbidden_kind
from bpract.net.errors import TargetRefusedError
from bpract.net.resolver import Resolver, SystemResolver

__all__ = ["GuardedBackend"]

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


def _literal(host: str) -> str | None:
    try:
        return str(ipaddress.ip_address(host.strip("[]")))
    except ValueError:
        return None


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
        if not addresses:
            raise httpcore2.ConnectError(f"{host}: name not resolved")
        for address in addresses:
            if not self.allowlist.permits(host, port, ipaddress.ip_address(address)):
                kind = forbidden_kind(address)
                shown = host if literal is not None else f"{host} ({address})"
                raise TargetRefusedError(
                    f"{shown} is a {kind} address; outbound calls to it are refused "
                    "unless it is allowed (BPRACT_OUTBOUND_ALLOW)"
                )
        return addresses

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
