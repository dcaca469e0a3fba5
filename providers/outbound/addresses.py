"""Which IP addresses a request made on a tenant's behalf may reach.

An address is refused when it is not globally routable (loopback, private, link-local,
multicast, reserved, unspecified, shared...) or is a cloud metadata service. IPv6 forms
that carry an IPv4 address — IPv4-mapped (``::ffff:a.b.c.d``), IPv4-compatible
(``::a.b.c.d``), 6to4 (``2002::/16``), Teredo (``2001::/32``) and NAT64 (``64:ff9b::/96``,
``64:ff9b:1::/48``) — are judged by the IPv4 address inside: a gateway on the path may
unwrap them.

Metadata is decided by comparing *addresses* (the outer one and every IPv4 address inside
it) with :data:`METADATA_ADDRESSES`, never by a reason string, so no operator allow-list and
no wrapping can open it.
"""

from __future__ import annotations

import ipaddress

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, DigitalOcean...
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_NAT64_WELL_KNOWN = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")


def embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, Teredo, NAT64)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address.teredo is not None:
        return address.teredo[1]
    low32 = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address in _NAT64_WELL_KNOWN or address in _NAT64_LOCAL:
        return low32
    if address in _IPV4_COMPATIBLE and int(address) > 1:  # :: and ::1 are not IPv4 forms
        return low32
    return None


def forms_of(address: IPAddress) -> list[IPAddress]:
    """The address itself, then the IPv4 address(es) inside it, if any.

    The local-use NAT64 prefix is a /48, where RFC 6052 splits the IPv4 address around
    the reserved octet (bits 64-71); both readings are returned.
    """
    inner = embedded_ipv4(address)
    forms: list[IPAddress] = [address] if inner is None else [address, inner]
    if address in _NAT64_LOCAL:
        value = int(address)
        split = ((value >> 64) & 0xFFFF) << 16 | (value >> 40) & 0xFFFF
        forms.append(ipaddress.IPv4Address(split))
    return forms


def is_metadata(address: IPAddress) -> bool:
    """True when the address, or the IPv4 address inside it, is a cloud metadata service."""
    return any(form in METADATA_ADDRESSES for form in forms_of(address))


def address_class(address: IPAddress) -> str | None:
    """Why an address is not public (``metadata``, ``loopback``...), or None when it is.

    The names are few and fixed: they label the refusal metric.
    """
    if is_metadata(address):
        return "metadata"
    if address in _NAT64_LOCAL:
        return "private"  # translated inside the operator's own network
    target = embedded_ipv4(address) or address
    checks = (
        ("unspecified", target.is_unspecified),
        ("loopback", target.is_loopback),
        ("link_local", target.is_link_local),
        ("multicast", target.is_multicast),
        ("reserved", target.is_reserved),
        ("private", target.is_private),
    )
    for name, matched in checks:
        if matched:
            return name
    return None if target.is_global else "not_global"


def in_networks(address: IPAddress, networks: tuple[IPNetwork, ...]) -> bool:
    """True when the address (or the IPv4 address inside it) lies in one of ``networks``."""
    return any(
        form in network
        for form in forms_of(address)
        for network in networks
        if form.version == network.version
    )
