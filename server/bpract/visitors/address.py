"""The client address a visitor socket is counted under: its peer, or a trusted proxy's word."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Mapping

from bpract.settings import SettingsError

__all__ = ["TrustedProxies", "address_key"]

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def address_key(host: str) -> str:
    """The key limits count ``host`` under: an IPv4 address, or an IPv6 /64.

    One IPv6 subscriber usually holds a whole /64, so counting single
    addresses there would let one client rotate through billions of them.
    """
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


class TrustedProxies:
    """Reverse proxies whose ``X-Forwarded-For`` header is believed.

    The client is the right-most address of the header that is not itself a
    trusted proxy (everything left of it is whatever the client chose to send).
    With no proxies configured the header is ignored and the peer is the client.
    """

    def __init__(self, networks: Iterable[str]) -> None:
        self._networks: list[_Network] = [
            ipaddress.ip_network(n.strip(), strict=False) for n in networks if n.strip()
        ]

    @classmethod
    def parse(cls, setting: str) -> TrustedProxies:
        """From ``BPRACT_TRUSTED_PROXIES`` (comma-separated addresses or networks)."""
        try:
            return cls(setting.split(","))
        except ValueError as exc:
            raise SettingsError(f"BPRACT_TRUSTED_PROXIES={setting!r}: {exc}") from None

    def trusts(self, host: str) -> bool:
        try:
            ip = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(ip in net for net in self._networks)

    def client(self, peer: str | None, headers: Mapping[str, str]) -> str:
        """The address limits count: :func:`address_key` of the real client."""
        host = peer or ""
        if self._networks and self.trusts(host):
            forwarded = headers.get("x-forwarded-for", "")
            for hop in reversed([h.strip() for h in forwarded.split(",") if h.strip()]):
                host = hop
                if not self.trusts(hop):
                    break
        return address_key(host)
