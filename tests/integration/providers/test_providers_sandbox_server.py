"""The sandbox over a real socket (uvicorn), driven by the client's shared keep-alive pool."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from providers.auth import AdminSecrets, BearerToken
from providers.client import ProviderClient, shared_http_client
from providers.errors import DestinationRefused, RateLimited, RequestTimeout, ServerError
from providers.outbound import OutboundPolicy
from providers.registry import Catalog, load_catalog
from providers.sandbox import Sandbox
from providers.sandbox.asgi import create_app


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    """A sandbox served by uvicorn on a free loopback port for this module."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sandbox = Sandbox(seed=1)
    config = uvicorn.Config(
        create_app(sandbox, timeout_seconds=0.7), host="127.0.0.1", port=port, log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 5
    while not server.started:
        assert time.monotonic() < deadline, "sandbox server did not start"
        time.sleep(0.02)
    yield sandbox, f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=5)


#: What an operator running the sandbox on loopback allows (production allows nothing).
LOOPBACK = OutboundPolicy.from_config(["127.0.0.1/32"])


@pytest.fixture
def catalog(served: tuple[Sandbox, str]) -> Catalog:
    sandbox, root = served
    sandbox.clear_faults()
    return load_catalog(overrides=sandbox.overrides(root))


def test_pages_over_the_network_with_the_shared_pool(
    served: tuple[Sandbox, str], catalog: Catalog
) -> None:
    """A client with no transport uses the process pool and pages to the end."""
    client = ProviderClient(
        catalog.get("shopify"),
        {"shop": "acme"},
        AdminSecrets({"access_token": "shpat_sandbox"}),
        policy=LOOPBACK,
    )
    pages = list(client.paginate("/customers.json", page_size=10))
    assert [len(p.items) for p in pages] == [10, 10, 5]
    assert pages[-1].response.feedback.limit == 40
    assert shared_http_client(LOOPBACK) is shared_http_client(LOOPBACK)


def test_the_shared_pool_refuses_loopback_unless_the_policy_allows_it(
    served: tuple[Sandbox, str], catalog: Catalog
) -> None:
    """With no policy given, the pool is strict: the loopback sandbox is not reached."""
    sandbox, _ = served
    before = sum(sandbox.requests.values())
    client = ProviderClient(
        catalog.get("shopify"), {"shop": "acme"}, AdminSecrets({"access_token": "shpat_sandbox"})
    )
    with pytest.raises(DestinationRefused, match="destination not allowed or unreachable"):
        client.get("/customers.json")
    assert sum(sandbox.requests.values()) == before


def test_faults_over_the_network(served: tuple[Sandbox, str], catalog: Catalog) -> None:
    """5xx bursts, rate limits and timeouts reach a real client as our error classes."""
    sandbox, root = served
    token = BearerToken(sandbox.issue_token("hubspot").access_token)
    client = ProviderClient(
        catalog.get("hubspot"), {"portal_id": "1"}, token, timeout=0.5, policy=LOOPBACK
    )
    httpx.post(f"{root}/_sandbox/faults/hubspot", json={"server_errors": 1}).raise_for_status()
    with pytest.raises(ServerError):
        client.get("/crm/v3/objects/contacts")
    httpx.post(f"{root}/_sandbox/faults/hubspot", json={"timeouts": 1}).raise_for_status()
    with pytest.raises(RequestTimeout):
        client.get("/crm/v3/objects/contacts")
    sandbox.set_rate_limit("hubspot", limit=1, window_seconds=60)
    client.get("/crm/v3/objects/contacts")
    with pytest.raises(RateLimited):
        client.get("/crm/v3/objects/contacts")


def test_token_endpoint_over_the_network(served: tuple[Sandbox, str], catalog: Catalog) -> None:
    """The OAuth token endpoint works over HTTP and its calls are counted."""
    sandbox, root = served
    before = sandbox.token_calls("calendly")
    response = httpx.post(
        f"{root}/calendly/oauth/token",
        data={"grant_type": "authorization_code", "code": "sandbox-code-9"},
        auth=("sandbox-client", "sandbox-secret"),
    )
    assert response.status_code == 200 and response.json()["expires_in"] == 7200
    assert sandbox.token_calls("calendly") == before + 1
    stats = httpx.get(f"{root}/_sandbox/stats").json()
    assert stats["token_calls"]["calendly"] == before + 1
