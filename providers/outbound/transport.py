"""The outbound policy enforced where sockets are opened, under httpx.

Checking a URL when it is saved is not enough: DNS can answer differently later
(rebinding). So the check sits in the network backend: the host is resolved once, *every*
address is checked, and the socket connects to a checked address — never to a name resolved
a second time. TLS still verifies the certificate against the host name. Each request (so
each redirect hop, should a client follow one) passes the URL checks again.

Every failure to connect — refused, unreachable, timed out, unresolvable — carries the one
text :data:`~providers.outbound.policy.UNREACHABLE`, like a refusal, so the answers of a
tenant's requests cannot map our network's open and closed ports.
"""

from __future__ import annotations

import logging
import os
import ssl
import threading
import typing

import certifi
import httpcore
import httpx

from providers.outbound.policy import UNREACHABLE, OutboundPolicy, OutboundRefused

logger = logging.getLogger("switchyard.outbound")
DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=5.0, pool=5.0)
DEFAULT_MAX_CONNECTIONS = 200
DEFAULT_KEEPALIVE = 50


class GuardedBackend(httpcore.SyncBackend):
    """A network backend that connects only to addresses the policy has checked."""

    def __init__(self, policy: OutboundPolicy) -> None:
        self.policy = policy

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        self.policy.check_port(port)
        try:
            addresses = self.policy.resolve(host, port)
        except OSError:
            raise httpcore.ConnectError(UNREACHABLE) from None
        timed_out = False
        for address in addresses:
            try:
                return super().connect_tcp(
                    str(address), port, timeout, local_address, socket_options
                )
            except httpcore.ConnectTimeout:
                timed_out = True
            except (httpcore.ConnectError, OSError):
                pass
        raise (httpcore.ConnectTimeout if timed_out else httpcore.ConnectError)(UNREACHABLE)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise OutboundRefused("scheme", "unix sockets are not a destination")


class GuardedTransport(httpx.HTTPTransport):
    """An httpx transport over :class:`GuardedBackend` that checks each request's URL first."""

    def __init__(
        self,
        policy: OutboundPolicy,
        *,
        max_connections: int = DEFAULT_MAX_CONNECTIONS,
        max_keepalive: int = DEFAULT_KEEPALIVE,
    ) -> None:
        super().__init__(trust_env=False)
        self.policy = policy
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl.create_default_context(cafile=certifi.where()),
            max_connections=max_connections,
            max_keepalive_connections=min(max_keepalive, max_connections),
            network_backend=GuardedBackend(policy),
        )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        try:
            self.policy.check_url(request.url)
            return super().handle_request(request)
        except OutboundRefused as refusal:
            self.policy.observe(refusal)
            # For operators: the rule and host (never the path or query, which may hold tokens).
            logger.warning("outbound request refused (%s): %s", refusal.reason, refusal.detail)
            raise


def guarded_client(
    policy: OutboundPolicy,
    *,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    max_keepalive: int = DEFAULT_KEEPALIVE,
) -> httpx.Client:
    """An httpx client under ``policy``: no redirects, no proxies from the environment."""
    transport = GuardedTransport(
        policy, max_connections=max_connections, max_keepalive=max_keepalive
    )
    return httpx.Client(
        transport=transport,
        follow_redirects=False,
        trust_env=False,
        timeout=timeout,
    )


_pools_lock = threading.Lock()
_pools: dict[tuple[int, OutboundPolicy], httpx.Client] = {}


def shared_client(policy: OutboundPolicy | None = None) -> httpx.Client:
    """This process's keep-alive pool for ``policy`` (strict by default), created on first
    use and again after a fork, so worker processes never share sockets."""
    key = (os.getpid(), policy or OutboundPolicy())
    with _pools_lock:
        client = _pools.get(key)
        if client is None:
            client = _pools[key] = guarded_client(key[1])
        return client
