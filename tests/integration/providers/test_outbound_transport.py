"""The outbound policy under a real httpx client: refused before connecting, never rebound,
redirects not followed (and each hop checked when a client does follow), one text for every
refusal and failure to connect, responses read only so far, timeouts enforced."""

from __future__ import annotations

import socket
from collections.abc import Iterator, Sequence
from typing import Any

import httpx
import pytest

from providers.outbound import UNREACHABLE, OutboundPolicy, OutboundRefused, guarded_client
from providers.outbound.transport import GuardedTransport
from tests.integration.webhooks.receiver import Answer, Receiver, serving
from workers.webhooks.sender import send

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
    policy = OutboundPolicy.from_config(allow, resolver=resolver)
    return guarded_client(policy, timeout=httpx.Timeout(read_timeout, connect=2))


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
    with client(resolver) as http, pytest.raises(OutboundRefused, match=UNREACHABLE):
        http.post("https://hooks.example.com/in", content=b"{}")


@pytest.mark.parametrize("url", ["http://127.0.0.1:9/x", "http://[::1]:9/x", "http://0.0.0.0:9/"])
def test_literal_internal_addresses_are_blocked(url: str) -> None:
    """IP literals go through the same check."""
    with client(RecordingResolver({})) as http, pytest.raises(OutboundRefused):
        http.post(url, content=b"{}")


def test_loopback_receiver_is_refused_without_the_operator_allowance(
    loopback: Receiver,
) -> None:
    """The receiver exists and listens; the policy still refuses it; nothing arrives."""
    result = send(client(RecordingResolver({})), loopback.url, b"{}", {}, 1024)
    assert result.blocked and not result.ok and result.error == UNREACHABLE
    assert loopback.requests == []


def test_connection_goes_to_the_checked_address_without_a_second_lookup(
    loopback: Receiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name is resolved once, by the policy; the socket connects to that very address."""
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
    assert resolver.lookups == [] and len(loopback.requests) == 1  # literals need no lookup


def test_only_http_and_https_are_sent() -> None:
    """Other schemes are refused by the transport itself."""
    transport = GuardedTransport(OutboundPolicy(resolver=RecordingResolver({})))
    for url in ("ftp://example.com/x", "file:///etc/passwd", "gopher://example.com/"):
        with pytest.raises(OutboundRefused) as refused:
            transport.handle_request(httpx.Request("POST", url))
        assert refused.value.reason == "scheme"


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
    """A name with no address is a retryable failure, not a block, with the same text."""

    def nowhere(host: str, port: int) -> Sequence[str]:
        raise socket.gaierror("no such host")

    result = send(client(nowhere), "https://nowhere.example.test/", b"{}", {}, 1024)
    assert not result.blocked and result.error == UNREACHABLE


def test_a_closed_port_reads_like_a_refusal(loopback: Receiver) -> None:
    """Connection refused on an allowed host and a policy refusal carry one text: answers
    cannot tell open, closed and forbidden ports apart."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    allowed = client(RecordingResolver({}), allow=["127.0.0.1/32"])
    refused_port = send(allowed, f"http://127.0.0.1:{closed}/", b"{}", {}, 1024)
    forbidden = send(client(RecordingResolver({})), loopback.url, b"{}", {}, 1024)
    assert refused_port.error == forbidden.error == UNREACHABLE
    assert loopback.requests == []


@pytest.mark.parametrize(
    "target",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:169.254.169.254]/",
        "http://127.0.0.2:{port}/",
        "http://127.0.0.1:22/",
        "ftp://127.0.0.1/",
    ],
)
def test_a_client_that_follows_redirects_has_every_hop_checked(
    loopback: Receiver, target: str
) -> None:
    """Redirects are never followed by our clients; should one follow, the next hop goes
    through the same checks (address, port, scheme) and is refused."""
    port = loopback.url.split(":")[2].split("/")[0]
    loopback.then(Answer(307, headers={"location": target.format(port=port)}))
    policy = OutboundPolicy.from_config(["127.0.0.1/32", "169.254.0.0/16", "::ffff:0:0/96"])
    http = httpx.Client(transport=GuardedTransport(policy), follow_redirects=True)
    with http, pytest.raises(OutboundRefused, match=UNREACHABLE):
        http.post(loopback.url, content=b"{}")
    assert len(loopback.requests) == 1
