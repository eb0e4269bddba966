"""Name resolution for the guard: the system's resolver, or one a test supplies."""

from __future__ import annotations

import socket
from typing import Protocol

import anyio

__all__ = ["Resolver", "SystemResolver"]


class Resolver(Protocol):
    async def resolve(self, host: str, port: int) -> list[str]:
        """Every address ``host`` has now (IPv4 and IPv6, as text); raise OSError if none."""
        ...


class SystemResolver:
    """``getaddrinfo`` in a worker thread, as the connection itself would resolve."""

    async def resolve(self, host: str, port: int) -> list[str]:
        found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        addresses: list[str] = []
        for *_, sockaddr in found:
            address = str(sockaddr[0]).split("%", 1)[0]  # an IPv6 zone is not part of it
            if address not in addresses:
                addresses.append(address)
        return addresses
