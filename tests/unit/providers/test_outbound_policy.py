"""The outbound policy's rules: every refused address class (IPv4, IPv6, IPv4 inside IPv6),
metadata refused whatever the allow-list, ports, schemes and host forms."""

from __future__ import annotations

import ipaddress

import pytest

from providers.outbound import UNREACHABLE, OutboundPolicy, OutboundRefused
from providers.outbound.addresses import address_class

REFUSED = {
    "127.0.0.1": "loopback",
    "127.255.0.9": "loopback",
    "::1": "loopback",
    "10.1.2.3": "private",
    "172.16.0.1": "private",
    "192.168.1.1": "private",
    "fc00::1": "private",
    "169.254.10.10": "link_local",
    "fe80::1": "link_local",
    "224.0.0.1": "multicast",
    "ff02::1": "multicast",
    "240.0.0.1": "reserved",
    "0.0.0.0": "unspecified",  # noqa: S104 - an address under test, not a bind
    "::": "unspecified",
    "100.64.0.1": "not_global",
    "169.254.169.254": "metadata",
    "fd00:ec2::254": "metadata",
    "100.100.100.200": "metadata",
}
WRAPPED = {
    "::ffff:127.0.0.1": "loopback",
    "::ffff:10.0.0.1": "private",
    "2002:7f00:1::": "loopback",  # 6to4 around 127.0.0.1
    "64:ff9b::a00:1": "private",  # NAT64 around 10.0.0.1
}
#: Cloud metadata in every IPv6 wrapping a gateway may unwrap.
METADATA_FORMS = [
    "169.254.169.254",
    "::ffff:169.254.169.254",
    "::169.254.169.254",
    "2002:a9fe:a9fe::1",
    "2001:0:4136:e378:8000:63bf:5601:5601",  # Teredo, client 169.254.169.254 (inverted)
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::a9fe:a9fe",
    "fd00:ec2::254",
    "100.100.100.200",
    "::ffff:100.100.100.200",
    "2002:6464:64c8::",
    "64:ff9b::6464:64c8",
]
PUBLIC = ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8", "2002:808:808::"]


@pytest.mark.parametrize(("address", "reason"), sorted(REFUSED.items()))
def test_each_refused_class_is_named(address: str, reason: str) -> None:
    """Loopback, private, link-local, multicast, reserved, unspecified, metadata: named."""
    assert address_class(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize(("address", "reason"), sorted(WRAPPED.items()))
def test_ipv4_inside_ipv6_is_judged_by_the_ipv4_address(address: str, reason: str) -> None:
    """IPv4-mapped, 6to4 and NAT64 addresses cannot smuggle a private IPv4 address through."""
    assert address_class(ipaddress.ip_address(address)) == reason


@pytest.mark.parametrize("address", PUBLIC)
def test_public_addresses_pass(address: str) -> None:
    """Globally routable addresses (also wrapped in IPv6) are allowed."""
    OutboundPolicy().check_address("h", ipaddress.ip_address(address))


@pytest.mark.parametrize("address", METADATA_FORMS)
def test_metadata_stays_refused_inside_every_allowed_network(address: str) -> None:
    """Allowing the link-local, shared and whole IPv6 ranges still refuses metadata, in
    every IPv4-inside-IPv6 form (the old guard compared reason strings and let these pass)."""
    policy = OutboundPolicy.from_config(
        ["169.254.0.0/16", "100.64.0.0/10", "::/0", "0.0.0.0/0", "fd00::/8"]
    )
    with pytest.raises(OutboundRefused) as refused:
        policy.check_address("h", ipaddress.ip_address(address))
    assert refused.value.reason == "metadata"


def test_operator_allowance_opens_named_networks_only() -> None:
    """An allowed CIDR admits its addresses (also IPv4-mapped); neighbours stay refused."""
    policy = OutboundPolicy.from_config(["127.0.0.1/32", "169.254.0.0/16", "10.0.0.0/8"])
    policy.check_address("h", ipaddress.ip_address("127.0.0.1"))
    policy.check_address("h", ipaddress.ip_address("::ffff:10.9.9.9"))
    policy.check_address("h", ipaddress.ip_address("169.254.1.1"))
    with pytest.raises(OutboundRefused, match=UNREACHABLE):
        policy.check_address("h", ipaddress.ip_address("127.0.0.2"))


def test_a_name_with_one_bad_address_is_refused_whole() -> None:
    """Every resolved address is checked: one private answer among public ones refuses all."""
    policy = OutboundPolicy(resolver=lambda host, port: ["8.8.8.8", "10.0.0.5"])
    with pytest.raises(OutboundRefused) as refused:
        policy.resolve("hooks.example.com", 443)
    assert refused.value.detail == "hooks.example.com is 10.0.0.5, a private address"


def test_every_refusal_reads_the_same() -> None:
    """The text of a refusal never says which rule refused (no oracle); ``reason`` does."""
    policy = OutboundPolicy()
    refusals = []
    for url in (
        "http://127.0.0.1/",
        "http://169.254.169.254/",
        "ftp://a.example/",
        "http://a.example:22/",
    ):
        with pytest.raises(OutboundRefused) as refused:
            policy.check_url(url)
        refusals.append(refused.value)
    assert {str(r) for r in refusals} == {UNREACHABLE}
    assert [r.reason for r in refusals] == ["loopback", "metadata", "scheme", "port"]


UNSENDABLE = [
    "http://[::1/",
    "http://256.0.0.1/",
    "http://127.000.000.001/",
    "http://0177.0.0.1/",
    "http://\uff11\uff12\uff17.0.0.1/",  # fullwidth digits
    "http://\uff45xample.com/",
    "http://a.example:80:80/",
    "http://a.example:83966/",  # wrapped to 18430 by the old sender
    "http://a.example:65536/",
    "http://a.example:0/",
    "http://127.1/",  # inet_aton forms resolve to loopback
    "http://2130706433/",
    "http://0x7f.1/",
    "http://a%20b.example/",
    "http://a..example/",
    "http://user:pw@a.example/",
    "ftp://a.example/",
    "file:///etc/passwd",
    "http://localhost:8080/",
    "http://api.localhost/",
    "not a url",
]


@pytest.mark.parametrize("url", UNSENDABLE)
def test_urls_that_cannot_be_sent_are_refused_without_touching_the_network(url: str) -> None:
    """Unparseable hosts and ports, odd IPv4 spellings, other schemes, local names: refused,
    each with a detail saying why."""

    def no_lookups(host: str, port: int) -> list[str]:
        raise AssertionError("a save-time check resolved a name")

    with pytest.raises(OutboundRefused) as refused:
        OutboundPolicy(resolver=no_lookups).check_url(url)
    assert refused.value.detail


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/in?x=1",
        "http://hooks.example.com:8080/",
        "https://b\u00fccher.example/",
        "https://[2606:4700:4700::1111]/",
        "https://8.8.8.8:443/",
    ],
)
def test_public_urls_pass_the_static_checks(url: str) -> None:
    """Names, IDNs, public literals and allowed ports pass."""
    OutboundPolicy().check_url(url)


def test_ports_are_the_operators_choice_within_range() -> None:
    """Only the configured ranges are open; a bad range is refused when configured."""
    policy = OutboundPolicy.from_config(ports=["443"])
    policy.check_url("https://a.example/")
    with pytest.raises(OutboundRefused, match=UNREACHABLE):
        policy.check_url("http://a.example:8080/")
    with pytest.raises(ValueError, match="70000"):
        OutboundPolicy.from_config(ports=["1-70000"])
