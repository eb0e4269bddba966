"""Which addresses are public, and how the allow-list reads."""

from __future__ import annotations

import ipaddress

import pytest

from bpract.net import Allowlist, OutboundError, forbidden_kind


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("100.64.0.1", "shared (CGNAT)"),
        ("100.127.255.254", "shared (CGNAT)"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "private"),  # reserved 240/4, which Python lists as private
        ("255.255.255.255", "private"),
        ("192.0.2.10", "private"),  # documentation
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped IPv6
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:169.254.169.254", "link-local"),
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
        ("::7f00:1", "reserved"),  # IPv4-compatible, deprecated
    ],
)
def test_non_public_addresses_are_named(address: str, kind: str) -> None:
    assert forbidden_kind(address) == kind


@pytest.mark.parametrize(
    "address", ["8.8.8.8", "93.184.215.14", "2606:4700:4700::1111", "::ffff:8.8.8.8"]
)
def test_public_addresses_pass(address: str) -> None:
    assert forbidden_kind(address) is None


def test_allowlist_entries() -> None:
    allow = Allowlist.parse(["10.1.0.0/16", " help.intranet ", "http://127.0.0.1:8080", "::1", ""])
    loopback = ipaddress.ip_address("127.0.0.1")
    assert allow.permits("10.1.2.3", 80, ipaddress.ip_address("10.1.2.3"))
    assert not allow.permits("10.2.0.1", 80, ipaddress.ip_address("10.2.0.1"))
    assert allow.permits("help.intranet", 443, ipaddress.ip_address("192.168.5.5"))
    assert allow.permits("HELP.intranet.", 443, ipaddress.ip_address("192.168.5.5"))
    assert allow.permits("127.0.0.1", 8080, loopback)
    assert not allow.permits("127.0.0.1", 8081, loopback)  # an origin is one port
    assert allow.permits("::1", 5, ipaddress.ip_address("::1"))
    assert allow.permits("example.com", 443, ipaddress.ip_address("8.8.8.8"))
    assert Allowlist.parse([], everything=True).permits("x", 1, loopback)


@pytest.mark.parametrize("entry", ["10.0.0.0/33", "ftp://files.example", "not a host/x"])
def test_bad_allowlist_entries_are_errors(entry: str) -> None:
    with pytest.raises(OutboundError):
        Allowlist.parse([entry])
