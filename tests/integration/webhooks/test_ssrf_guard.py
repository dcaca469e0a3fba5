"""The SSRF guard under a real httpx client: refused before connecting, never rebound,
redirects not followed, responses read only so far, timeouts enforced."""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest

from tests.integration.webhooks.receiver import Answer, Receiver, serving
from workers.webhooks.sender import send
from workers.webhooks.ssrf import AddressGuard, BlockedDestination, guarded_client

pytestmark = pytest.mark.integration


class RecordingResolver:
    """Answers names from a table and records every lookup."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.lookups: list[str] = []

    def __call__(self, host: str, port: int) -> Sequence[str]:
        self.lookups.append(host)
        return self.table.get(host, [host])


def client(resolver: Any, allow: Sequence[str] = (), read_timeout: float = 5) -> httpx.Client:
    guard = AddressGuard.allowing(allow, resolver)
    return guarded_client(guard, connect_timeout=2, read_timeout=read_timeout)


@pytest.fixture
def loopback() -> Iterator[Receiver]:
    with serving(Receiver()) as running:
        yield running


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.0.0.1", "169.254.169.254", "::1", "::ffff:127.0.0.1", "fd00:ec2::254"],
)
def test_names_resolving_to_refused_addresses_are_blocked(address: str) -> None:
    """A public-looking name that resolves to an internal address is refused, not connected."""
    resolver = RecordingResolver({"hooks.example.com": [address]})
    with client(resolver) as http, pytest.raises(BlockedDestination, match="resolves to"):
        http.post("https://hooks.example.com/in", content=b"{}")


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://[::1]:9/x", "http://0.0.0.0:9/"])
def test_literal_internal_addresses_are_blocked(url: str) -> None:
    """IP literals go through the same check."""
    with client(RecordingResolver({})) as http, pytest.raises(BlockedDestination):
        http.post(url, content=b"{}")


def test_loopback_receiver_is_refused_without_the_operator_allowance(
    loopback: Receiver,
) -> None:
    """The receiver exists and listens; the guard still refuses it; nothing arrives."""
    result = send(client(RecordingResolver({})), loopback.url, b"{}", {}, 1024)
    assert result.blocked and not result.ok and "loopback" in (result.error or "")
    assert loopback.requests == []


def test_connection_goes_to_the_checked_address_without_a_second_lookup(
    loopback: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name is resolved once, by the guard; the socket connects to that very address."""
    port = loopback.url.split(":")[2].split("/")[0]
    resolver = RecordingResolver({"rebind.example.test": ["127.0.0.1"]})
    original = socket.getaddrinfo

    def no_name_lookups(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.example.test":
            raise AssertionError("the name was resolved a second time")
        return original(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", no_name_lookups)
    with client(resolver, allow=["127.0.0.1/32"]) as http:
        response = http.post(f"http://rebind.example.test:{port}/hook", content=b"{}")
    assert response.status_code == 200
    assert resolver.lookups == ["rebind.example.test"]
    assert loopback.requests[0].headers["host"] == f"rebind.example.test:{port}"


@pytest.mark.parametrize(
    "target", ["http://169.254.169.254/latest/meta-data/", "http://10.0.0.1/", "http://[::1]/"]
)
def test_redirects_to_internal_addresses_are_not_followed(loopback: Receiver, target: str) -> None:
    """A 3xx is a failed attempt; its Location is never requested."""
    loopback.then(Answer(302, headers={"location": target}))
    resolver = RecordingResolver({})
    result = send(client(resolver, allow=["127.0.0.1/32"]), loopback.url, b"{}", {}, 1024)
    assert result.status == 302 and not result.ok
    assert "redirect not followed" in (result.error or "")
    assert resolver.lookups == ["127.0.0.1"] and len(loopback.requests) == 1


def test_only_http_and_https_are_sent() -> None:
    """Other schemes are refused by the transport itself."""
    transport = client(RecordingResolver({}))._transport
    for url in ("ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/"):
        with pytest.raises(BlockedDestination, match="scheme"):
            transport.handle_request(httpx.Request("POST", url))


def test_response_is_read_only_up_to_the_bound(loopback: Receiver) -> None:
    """A huge answer is cut at max_bytes; the excerpt kept is smaller still."""
    loopback.then(Answer(200, body=b"y" * 2_000_000))
    result = send(client(RecordingResolver({}), ["127.0.0.1/32"]), loopback.url, b"{}", {}, 4096)
    assert result.ok and len(result.excerpt) == 1024


def test_read_timeout_is_a_failed_attempt(loopback: Receiver) -> None:
    """A receiver slower than the read timeout yields an error, not a hang."""
    loopback.then(Answer(200, delay=1.0))
    http = client(RecordingResolver({}), ["127.0.0.1/32"], read_timeout=0.2)
    result = send(http, loopback.url, b"{}", {}, 1024)
    assert result.status is None and (result.error or "").startswith("timeout")


def test_unresolvable_names_fail_as_connection_errors() -> None:
    """A name with no address is a retryable failure, not a block."""

    def nowhere(host: str, port: int) -> Sequence[str]:
        raise socket.gaierror("no such host")

    result = send(client(nowhere), "https://nowhere.example.test/", b"{}", {}, 1024)
    assert not result.blocked and "ConnectError" in (result.error or "")
