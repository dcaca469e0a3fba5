"""The provider and token clients under the outbound policy: refused destinations and failed
connections raise our errors with one text, and the default pool is strict."""

from __future__ import annotations

from collections.abc import Sequence

import httpx
import pytest

from providers.auth import BasicCredential
from providers.auth.oauth import AppCredentials, TokenClient
from providers.client import ProviderClient
from providers.errors import ConnectionFailed, DestinationRefused, RequestTimeout
from providers.outbound import UNREACHABLE, OutboundPolicy
from providers.registry import load_catalog

CATALOG = load_catalog()
KEYS = BasicCredential("ck_test", "cs_test")


class Resolver:
    """Answers every name with fixed addresses; records lookups."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = list(addresses)
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append(host)
        return self.addresses


def _woocommerce(
    policy: OutboundPolicy | None, transport: httpx.BaseTransport | None = None
) -> ProviderClient:
    return ProviderClient(
        CATALOG.get("woocommerce"),
        {"store_host": "shop.example.com"},
        KEYS,
        transport,
        policy=policy,
    )


@pytest.mark.parametrize("address", ["169.254.169.254", "::ffff:169.254.169.254", "10.0.0.5"])
def test_a_provider_host_resolving_inside_is_refused_before_connecting(address: str) -> None:
    """A tenant's store name that resolves to metadata or a private address: refused, with
    the one text, as a permanent ``blocked`` error."""
    resolver = Resolver(address)
    policy = OutboundPolicy.from_config(["169.254.0.0/16"], resolver=resolver)
    with pytest.raises(DestinationRefused) as refused:
        _woocommerce(policy).get("/system_status")
    assert str(refused.value).endswith(UNREACHABLE) and refused.value.error_class == "blocked"
    assert resolver.lookups == ["shop.example.com"]


@pytest.mark.parametrize("failure", [httpx.ConnectError, httpx.ConnectTimeout])
def test_failures_to_connect_read_like_a_refusal(failure: type[httpx.TransportError]) -> None:
    """Refused and timed-out connections give the same text (no port-scanning oracle)."""

    def fail(request: httpx.Request) -> httpx.Response:
        raise failure("[Errno 111] Connection refused", request=request)

    with pytest.raises(ConnectionFailed) as failed:
        _woocommerce(None, httpx.MockTransport(fail)).get("/system_status")
    assert str(failed.value).endswith(UNREACHABLE) and "111" not in str(failed.value)


def test_read_timeouts_stay_timeouts() -> None:
    """An answer that never comes after connecting is still a request timeout."""

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow", request=request)

    with pytest.raises(RequestTimeout):
        _woocommerce(None, httpx.MockTransport(slow)).get("/system_status")


def test_the_default_pool_is_strict() -> None:
    """A client given no policy and no transport refuses a loopback store host."""
    client = ProviderClient(CATALOG.get("woocommerce"), {"store_host": "127.0.0.1:8443"}, KEYS)
    with pytest.raises(DestinationRefused):
        client.get("/system_status")


def test_a_token_url_from_connection_data_meets_the_policy() -> None:
    """Salesforce's token URL takes the tenant's instance host; one resolving to metadata is
    refused before any byte (or our client secret) is sent."""
    resolver = Resolver("169.254.169.254")
    client = TokenClient(
        CATALOG.get("salesforce"),
        AppCredentials("id", "secret"),
        {"instance_host": "acme.my.salesforce.com"},
        policy=OutboundPolicy(resolver=resolver),
    )
    with pytest.raises(DestinationRefused, match=UNREACHABLE):
        client.refresh("rt")
    assert resolver.lookups == ["acme.my.salesforce.com"]
