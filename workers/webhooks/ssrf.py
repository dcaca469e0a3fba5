"""The SSRF guard: outbound webhooks reach public addresses only, checked at connect time.

Endpoint URLs are chosen by tenants, so a delivery must not become a way into our own
network (cloud metadata, databases, admin ports). Checking the URL when it is saved is not
enough: DNS can answer differently later (rebinding). So the check sits in the network
backend under httpx: the host is resolved once, *every* address is checked, and the socket
connects to a checked address — never to a name resolved a second time. TLS still verifies
the certificate against the host name.

Refused: loopback, private, link-local, multicast, reserved, unspecified, shared and other
non-global addresses, and the cloud metadata addresses — IPv4, IPv6, and IPv4 embedded in
IPv6 (mapped, 6to4, Teredo). An operator may allow named private networks (self-hosted
receivers); metadata addresses stay refused even then. Only http and https are sent, and
redirects are never followed (the client does not follow them; a 3xx is a failed attempt).
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import typing
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import certifi
import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Sequence[str]]

METADATA_ADDRESSES: frozenset[IPAddress] = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack...
        ipaddress.ip_address("fd00:ec2::254"),  # AWS over IPv6
        ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    }
)


class BlockedDestination(Exception):
    """A delivery was refused by the guard; the message names the host, address and class."""

    error_class = "blocked"


def refusal_reason(address: IPAddress) -> str | None:
    """Why an address is refused (``loopback``, ``private``...), or None when it is public."""
    if address in METADATA_ADDRESSES:
        return "cloud metadata"
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or _teredo_client(address)
        if embedded is not None:
            inner = refusal_reason(embedded)
            return f"{inner} (IPv4 inside IPv6)" if inner else None
    checks = (
        ("unspecified", address.is_unspecified),
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
    )
    for name, matched in checks:
        if matched:
            return name
    return None if address.is_global else "not globally routable"


def _teredo_client(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    teredo = address.teredo
    return teredo[1] if teredo else None


def system_resolver(host: str, port: int) -> Sequence[str]:
    """Every address the system resolver gives for ``host`` (TCP)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


@dataclass(frozen=True)
class AddressGuard:
    """Decides which addresses deliveries may connect to."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    resolver: Resolver = field(default=system_resolver)

    @classmethod
    def allowing(cls, networks: Iterable[str], resolver: Resolver | None = None) -> AddressGuard:
        """A guard that also allows these CIDR networks (metadata addresses excepted)."""
        parsed = tuple(ipaddress.ip_network(n, strict=False) for n in networks)
        return cls(allowed_networks=parsed, resolver=resolver or system_resolver)

    def check(self, host: str, address: IPAddress) -> None:
        """Raise :class:`BlockedDestination` unless ``address`` may be reached."""
        reason = refusal_reason(address)
        if reason is None:
            return
        if reason != "cloud metadata" and self._allowed(address):
            return
        raise BlockedDestination(f"{host} resolves to {address}, a {reason} address")

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Resolve ``host`` and check every address; raise if any one is refused."""
        try:
            answers = self.resolver(host, port)
        except OSError as exc:
            raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
        addresses = [ipaddress.ip_address(answer.split("%")[0]) for answer in answers]
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host}: no addresses")
        for address in addresses:
            self.check(host, address)
        return addresses

    def _allowed(self, address: IPAddress) -> bool:
        candidates = [address]
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            candidates.append(address.ipv4_mapped)
        return any(
            candidate in network
            for candidate in candidates
            for network in self.allowed_networks
            if candidate.version == network.version
        )


class GuardedBackend(httpcore.SyncBackend):
    """A network backend that connects only to addresses the guard has checked."""

    def __init__(self, guard: AddressGuard) -> None:
        self.guard = guard

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        last: Exception | None = None
        for address in self.guard.resolve(host, port):
            try:
                return super().connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectError as exc:
                last = exc
        assert last is not None
        raise last

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise BlockedDestination("unix sockets are not a webhook destination")


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport over :class:`GuardedBackend`, refusing schemes other than http(s)."""

    def __init__(self, guard: AddressGuard, *, max_connections: int = 100) -> None:
        super().__init__(trust_env=False)
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            network_backend=GuardedBackend(guard),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme not in ("http", "https"):
            raise BlockedDestination(f"scheme {request.url.scheme!r} is not http or https")
        return super().handle_request(request)


def guarded_client(
    guard: AddressGuard, *, connect_timeout: float, read_timeout: float
) -> httpx.Client:
    """An httpx client for deliveries: guarded, no redirects, no proxies from the environment."""
    return httpx.Client(
        transport=GuardedTransport(guard),
        follow_redirects=False,
        trust_env=False,
        timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
    )
