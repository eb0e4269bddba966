"""Which addresses outbound calls may reach: public ones, and what the operator allows."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

from bpract.net.errors import OutboundError

__all__ = ["Allowlist", "IPAddress", "default_port", "forbidden_kind", "origin_of"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT (RFC 6598)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known NAT64 prefix (RFC 6052)
_PORTS = {"http": 80, "https": 443}


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, NAT64, 6to4), if any."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def _kind(ip: IPAddress) -> str | None:
    checks = (
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED, "shared (CGNAT)"),
        (isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local, "private"),
        (ip.is_private, "private"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "non-global"),
    )
    return next((name for hit, name in checks if hit), None)


def forbidden_kind(address: str | IPAddress) -> str | None:
    """Why ``address`` is not public (``"loopback"``, ``"private"``…), or None if it is."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_v4(ip)
        if inner is not None:
            found = _kind(inner)
            if found is not None or ip.ipv4_mapped is not None:
                return found
    return _kind(ip)


def default_port(scheme: str) -> int:
    return _PORTS.get(scheme.lower(), 0)


def origin_of(url: str) -> tuple[str, str, int]:
    """``(scheme, host, port)`` of an http(s) URL, the port filled in from the scheme."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise OutboundError(f"{url!r} is not a valid URL ({exc})") from None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in _PORTS or not host:
        raise OutboundError(f"{url!r} is not an http(s) URL with a host")
    return scheme, host, port or _PORTS[scheme]


def _host(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


@dataclass(frozen=True, slots=True)
class Allowlist:
    """Targets allowed although not public: networks, host names, ``(host, port)`` origins."""

    networks: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = ()
    hosts: frozenset[str] = frozenset()
    origins: frozenset[tuple[str, int]] = frozenset()
    everything: bool = False

    @classmethod
    def parse(cls, entries: Iterable[str], *, everything: bool = False) -> Allowlist:
        """Entries as ``BPRACT_OUTBOUND_ALLOW`` spells them (see :class:`NetSettings`)."""
        networks, hosts, origins = [], set(), set()
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            if "://" in entry:
                _, host, port = origin_of(entry)
                origins.add((_host(host), port))
                continue
            try:
                networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
            except ValueError:
                if "/" in entry or ":" in entry:
                    raise OutboundError(
                        f"{entry!r} is not an address, a network, a host name or an origin"
                    ) from None
                hosts.add(_host(entry))
        return cls(tuple(networks), frozenset(hosts), frozenset(origins), everything)

    def extended(self, *entries: str) -> Allowlist:
        more = Allowlist.parse(entries)
        return Allowlist(
            self.networks + more.networks,
            self.hosts | more.hosts,
            self.origins | more.origins,
            self.everything,
        )

    def permits(self, host: str, port: int, address: IPAddress) -> bool:
        """Whether a connection for ``host:port`` may go to ``address``."""
        if self.everything or forbidden_kind(address) is None:
            return True
        name = _host(host)
        return (
            name in self.hosts
            or (name, port) in self.origins
            or any(address in net for net in self.networks if net.version == address.version)
        )
