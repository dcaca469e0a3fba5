"""The SSRF guard's address rules: every refused class, in IPv4, IPv6 and IPv4-in-IPv6."""

from __future__ import annotations

import ipaddress

import pytest

from workers.webhooks.ssrf import AddressGuard, BlockedDestination, refusal_reason

REFUSED = {
    "127.0.0.1": "loopback",
    "127.255.0.9": "loopback",
    "::1": "loopback",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "fc00::1": "private",
    "169.254.10.10": "link-local",
    "fe80::1": "link-local",
    "224.0.0.1": "multicast",
    "ff02::1": "multicast",
    "240.0.0.1": "reserved",
    "0.0.0.0": "unspecified",  # noqa: S104 - an address under test, not a bind
    "::": "unspecified",
    "100.64.0.1": "not globally routable",
    "169.254.169.254": "cloud metadata",
    "fd00:ec2::254": "cloud metadata",
    "100.100.100.200": "cloud metadata",
}
MAPPED = {
    "::ffff:127.0.0.1": "loopback",
    "::ffff:10.0.0.1": "private",
    "::ffff:169.254.169.254": "cloud metadata",
    "2002:7f00:1::": "loopback",  # 6to4 around 127.0.0.1
}
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"]


@pytest.mark.parametrize(("address", "reason"), sorted(REFUSED.items()))
def test_each_refused_class_is_named(address: str, reason: str) -> None:
    """Loopback, private, link-local, multicast, reserved, unspecified, metadata: refused."""
    assert refusal_reason(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(("address", "reason"), sorted(MAPPED.items()))
def test_ipv4_inside_ipv6_is_judged_by_the_ipv4_address(address: str, reason: str) -> None:
    """IPv4-mapped and 6to4 addresses cannot smuggle a private IPv4 address through."""
    found = refusal_reason(ipaddress.ip_address(address))
    assert found is not None and found.startswith(reason)


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    """Globally routable addresses are allowed."""
    assert refusal_reason(ipaddress.ip_address(address)) is None


def test_operator_allowance_opens_named_networks_but_never_metadata() -> None:
    """An allowed CIDR admits its private addresses; metadata stays refused inside it."""
    guard = AddressGuard.allowing(["127.0.0.1/32", "169.254.0.0/16", "10.0.0.0/8"])
    guard.check("h", ipaddress.ip_address("127.0.0.1"))
    guard.check("h", ipaddress.ip_address("::ffff:10.9.9.9"))
    guard.check("h", ipaddress.ip_address("169.254.1.1"))
    with pytest.raises(BlockedDestination, match="metadata"):
        guard.check("h", ipaddress.ip_address("169.254.169.254"))
    with pytest.raises(BlockedDestination, match="loopback"):
        guard.check("h", ipaddress.ip_address("127.0.0.2"))


def test_a_name_with_one_bad_address_is_refused_whole() -> None:
    """Every resolved address is checked: one private answer among public ones refuses all."""
    guard = AddressGuard(resolver=lambda host, port: ["8.8.8.8", "10.0.0.5"])
    with pytest.raises(BlockedDestination, match=r"hooks\.example\.com resolves to 10\.0\.0\.5"):
        guard.resolve("hooks.example.com", 443)
