"""The outbound policy: where a request made on a tenant's behalf may go.

Tenants choose hosts (webhook endpoints, self-hosted stores, automation hosts, OAuth hosts),
so every such request must not become a way into our own network. One policy decides, for
provider calls, connection checks, token requests and webhook deliveries alike:

* the URL parses with the same parser the HTTP client uses (``httpx``), so a URL accepted
  when it is saved is one that can be sent;
* the scheme is http or https, the port is in the allowed ranges (1-65535, default 80, 443
  and 1024-65535), the host is a DNS name or a canonical IP literal;
* every address the host resolves to is public, or inside a network the operator allowed;
  cloud metadata addresses are refused even inside an allowed network (see
  :mod:`providers.outbound.addresses`).

A refusal raises :class:`OutboundRefused`, whose text is the same for every refusal (and,
in the transport, for every failure to connect): a tenant probing our network learns
nothing from it. Its ``reason`` (low-cardinality) and ``detail`` are for operators, metrics
and save-time validation, where no network is touched.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import httpx

from providers.outbound.addresses import IPAddress, IPNetwork, address_class, in_networks

UNREACHABLE = "destination not allowed or unreachable"
SCHEMES = ("http", "https")
DEFAULT_PORTS = ("80", "443", "1024-65535")
_LABEL = r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?"
_NAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(\.{_LABEL})*$")
_NUMERIC_LABEL = re.compile(r"^([0-9]+|0x[0-9a-f]*)$")  # inet_aton forms: 127.1, 0x7f.1
_LOCAL_NAMES = ("localhost", "localhost.localdomain")

Resolver = Callable[[str, int], Sequence[str]]
RefusalObserver = Callable[[str], None]


class OutboundRefused(Exception):
    """The policy refused a destination. ``str()`` is always :data:`UNREACHABLE`;
    ``reason`` names the rule (``loopback``, ``metadata``, ``port``...), ``detail`` explains."""

    error_class = "blocked"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(UNREACHABLE)
        self.reason = reason
        self.detail = detail

    def __repr__(self) -> str:
        return f"OutboundRefused(reason={self.reason!r})"


def system_resolver(host: str, port: int) -> Sequence[str]:
    """Every address the system resolver gives for ``host`` (TCP)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def parse_ports(items: Iterable[str]) -> tuple[tuple[int, int], ...]:
    """``["80", "1024-65535"]`` as inclusive ranges; raises ValueError naming a bad item."""
    ranges = []
    for item in items:
        low, _, high = str(item).strip().partition("-")
        try:
            bounds = (int(low), int(high or low))
        except ValueError:
            raise ValueError(f"{item!r} is not a port or a port range") from None
        if not 1 <= bounds[0] <= bounds[1] <= 65535:
            raise ValueError(f"{item!r} is not within 1-65535")
        ranges.append(bounds)
    return tuple(ranges)


@dataclass(frozen=True)
class OutboundPolicy:
    """Decides which URLs and addresses tenant-driven requests may reach; see the module."""

    allowed_networks: tuple[IPNetwork, ...] = ()
    allowed_ports: tuple[tuple[int, int], ...] = parse_ports(DEFAULT_PORTS)
    resolver: Resolver = system_resolver
    on_refusal: RefusalObserver | None = None
    """Told the ``reason`` of each refusal at request time (the operator's metric)."""

    @classmethod
    def from_config(
        cls,
        networks: Iterable[str] = (),
        ports: Iterable[str] = DEFAULT_PORTS,
        *,
        resolver: Resolver | None = None,
        on_refusal: RefusalObserver | None = None,
    ) -> OutboundPolicy:
        """A policy allowing these CIDR networks (metadata excepted) and port ranges."""
        return cls(
            allowed_networks=tuple(ipaddress.ip_network(n, strict=False) for n in networks),
            allowed_ports=parse_ports(ports),
            resolver=resolver or system_resolver,
            on_refusal=on_refusal,
        )

    def check_url(self, url: str | httpx.URL) -> httpx.URL:
        """Every check that needs no network: parse, scheme, port, host form, IP literal.

        Returns the parsed URL; raises :class:`OutboundRefused` naming the rule.
        """
        try:
            parsed = url if isinstance(url, httpx.URL) else httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise OutboundRefused("url", f"not a valid URL: {exc}") from None
        if parsed.scheme not in SCHEMES:
            raise OutboundRefused("scheme", f"scheme {parsed.scheme or 'missing'!r} is not http(s)")
        if parsed.userinfo:
            raise OutboundRefused("url", "must not carry credentials")
        default = 443 if parsed.scheme == "https" else 80
        self.check_port(default if parsed.port is None else parsed.port)
        self._check_host(parsed.raw_host.decode("ascii", errors="replace"))
        return parsed

    def check_port(self, port: int) -> None:
        """Refuse a port outside the allowed ranges (or outside 1-65535)."""
        if not any(low <= port <= high for low, high in self.allowed_ports):
            raise OutboundRefused("port", f"port {port} is not allowed")

    def check_address(self, host: str, address: IPAddress) -> None:
        """Refuse an address that is not public, unless allowed; metadata always."""
        reason = address_class(address)
        if reason is None or (reason != "metadata" and in_networks(address, self.allowed_networks)):
            return
        named = host if _literal(host) == address else f"{host} is {address}"
        raise OutboundRefused(reason, f"{named}, a {reason.replace('_', '-')} address")

    def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Resolve ``host`` and check every address; ``OSError`` when it does not resolve."""
        literal = _literal(host)
        if literal is not None:
            self.check_address(host, literal)
            return [literal]
        answers = self.resolver(host, port)
        addresses = [ipaddress.ip_address(answer.split("%")[0]) for answer in answers]
        if not addresses:
            raise OSError(f"{host} has no addresses")
        for address in addresses:
            self.check_address(host, address)
        return addresses

    def _check_host(self, host: str) -> None:
        literal = _literal(host)
        if literal is not None:
            self.check_address(host, literal)
            return
        name = host.rstrip(".").lower()
        if not _NAME.match(name) or _NUMERIC_LABEL.match(name.rsplit(".", 1)[-1]):
            raise OutboundRefused("url", f"host {host!r} is not a DNS name or an IP address")
        if name in _LOCAL_NAMES or name.endswith(".localhost"):
            raise OutboundRefused("loopback", f"{host} names this machine")

    def observe(self, refusal: OutboundRefused) -> None:
        """Count a refusal met while sending (save-time refusals are the caller's answer)."""
        if self.on_refusal is not None:
            self.on_refusal(refusal.reason)


def _literal(host: str) -> IPAddress | None:
    """The IP address a host literal names (IPv6 zone dropped), or None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%")[0])
    except ValueError:
        return None
