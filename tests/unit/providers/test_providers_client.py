"""ProviderClient against the sandbox: auth injection, error classes, feedback, pagination."""

from __future__ import annotations

import httpx
import pytest

from providers.errors import (
    AuthError,
    ConnectionFailed,
    MalformedResponse,
    PermanentError,
    ProviderError,
    RateLimited,
    RequestTimeout,
    ServerError,
    TransientError,
)
from providers.registry import Catalog
from providers.sandbox import Sandbox
from tests.unit.providers.sandbox_fixtures import (
    LISTS,
    SANDBOXED,
    client_for,
    credential_for,
    wrong_credential_for,
)


@pytest.mark.parametrize("name", SANDBOXED)
def test_pagination_reaches_the_last_page(
    sandbox: Sandbox, sandboxed_catalog: Catalog, name: str
) -> None:
    """Every seeded record arrives exactly once, in order, over several pages."""
    path, params, items_path = LISTS[name]
    with client_for(sandbox, sandboxed_catalog, name) as client:
        pages = list(client.paginate(path, params=params, items_path=items_path, page_size=10))
    items = [item for page in pages for item in page.items]
    assert len(pages) == 3
    assert items == sandbox.records(name)


@pytest.mark.parametrize("name", SANDBOXED)
def test_refused_credential_is_an_auth_error(
    sandbox: Sandbox, sandboxed_catalog: Catalog, name: str
) -> None:
    """A credential the provider refuses raises AuthError (Slack's ok=false included)."""
    path, params, _ = LISTS[name]
    client = client_for(sandbox, sandboxed_catalog, name, wrong_credential_for(name))
    with pytest.raises(AuthError) as info:
        client.get(path, params=params)
    assert info.value.provider == name
    assert "bogus-cred" not in str(info.value) and "bogus-cred" not in info.value.body


@pytest.mark.parametrize("name", SANDBOXED)
def test_check_request_succeeds(sandbox: Sandbox, sandboxed_catalog: Catalog, name: str) -> None:
    """The catalog's cheap check request works against the provider's fake."""
    assert client_for(sandbox, sandboxed_catalog, name).check().status_code == 200


@pytest.mark.parametrize("name", SANDBOXED)
def test_rate_limit_maps_to_rate_limited(
    sandbox: Sandbox, sandboxed_catalog: Catalog, name: str
) -> None:
    """Exceeding the provider's limit raises RateLimited, whatever status it uses."""
    path, params, _ = LISTS[name]
    sandbox.set_rate_limit(name, limit=2, window_seconds=60)
    client = client_for(sandbox, sandboxed_catalog, name)
    client.get(path, params=params)
    client.get(path, params=params)
    with pytest.raises(RateLimited) as info:
        client.get(path, params=params)
    assert info.value.provider == name


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("shopify", 2.0),  # Retry-After: 2.0
        ("slack", 60.0),  # Retry-After from the window
        ("klaviyo", 60.0),
        ("salesforce", 300.0),  # REQUEST_LIMIT_EXCEEDED has no reset: the hook's wait
        ("stripe", None),  # Stripe sends no Retry-After
        ("quickbooks", 60.0),  # the hook supplies Intuit's documented wait
    ],
)
def test_rate_limited_carries_the_wait(
    sandbox: Sandbox, sandboxed_catalog: Catalog, name: str, expected: float | None
) -> None:
    """The wait the provider asked for is parsed into retry_after."""
    path, params, _ = LISTS[name]
    sandbox.set_rate_limit(name, limit=1, window_seconds=60)
    client = client_for(sandbox, sandboxed_catalog, name)
    client.get(path, params=params)
    with pytest.raises(RateLimited) as info:
        client.get(path, params=params)
    assert info.value.retry_after == expected


def test_salesforce_limit_exceeded_403_is_rate_limited_not_permanent(
    sandbox: Sandbox, sandboxed_catalog: Catalog
) -> None:
    """Salesforce's 403 REQUEST_LIMIT_EXCEEDED is a rate limit, carrying the usage header."""
    sandbox.set_rate_limit("salesforce", limit=1, window_seconds=86400)
    client = client_for(sandbox, sandboxed_catalog, "salesforce")
    client.get("/limits")
    with pytest.raises(RateLimited) as info:
        client.get("/limits")
    assert info.value.status == 403
    assert not isinstance(info.value, PermanentError)
    assert info.value.feedback is not None and info.value.feedback.daily_remaining == 0


@pytest.mark.parametrize(
    ("name", "limit", "remaining"),
    [("hubspot", 110, 109), ("shopify", 40, 39), ("calendly", 240, 239), ("klaviyo", 150, 149)],
)
def test_success_carries_header_feedback(
    sandbox: Sandbox, sandboxed_catalog: Catalog, name: str, limit: int, remaining: int
) -> None:
    """Feedback is parsed on successful responses too, in each provider's header style."""
    path, params, _ = LISTS[name]
    result = client_for(sandbox, sandboxed_catalog, name).get(path, params=params)
    assert (result.feedback.limit, result.feedback.remaining) == (limit, remaining)


def test_salesforce_feedback_is_the_daily_allocation(
    sandbox: Sandbox, sandboxed_catalog: Catalog
) -> None:
    """Sforce-Limit-Info feeds the daily fields, not the short window."""
    result = client_for(sandbox, sandboxed_catalog, "salesforce").get("/limits")
    assert result.feedback.daily_limit == 15000
    assert result.feedback.daily_remaining == 14999
    assert result.feedback.limit is None


@pytest.mark.parametrize("name", SANDBOXED)
def test_server_error_burst_is_transient(
    sandbox: Sandbox, sandboxed_catalog: Catalog, name: str
) -> None:
    """Injected 5xx responses raise ServerError; the call after the burst succeeds."""
    path, params, _ = LISTS[name]
    client = client_for(sandbox, sandboxed_catalog, name)
    sandbox.inject(name, server_errors=2, server_status=502)
    for _ in range(2):
        with pytest.raises(ServerError) as info:
            client.get(path, params=params)
        assert info.value.status == 502 and isinstance(info.value, TransientError)
    assert client.get(path, params=params).status_code == 200


def test_timeout_is_request_timeout(sandbox: Sandbox, sandboxed_catalog: Catalog) -> None:
    """A provider that never answers raises RequestTimeout (transient)."""
    sandbox.inject("hubspot", timeouts=1)
    client = client_for(sandbox, sandboxed_catalog, "hubspot")
    with pytest.raises(RequestTimeout) as info:
        client.get("/crm/v3/objects/contacts")
    assert isinstance(info.value, TransientError)


def test_malformed_body_is_malformed_response(sandbox: Sandbox, sandboxed_catalog: Catalog) -> None:
    """A truncated JSON body on a 200 raises MalformedResponse when decoded."""
    sandbox.inject("stripe", malformed=1)
    client = client_for(sandbox, sandboxed_catalog, "stripe")
    result = client.get("/customers")
    with pytest.raises(MalformedResponse):
        result.json()


def test_slow_fault_sleeps_deterministically(sandboxed_catalog: Catalog) -> None:
    """A slow fault delays each response by the configured time (through the sandbox's sleep)."""
    slept: list[float] = []
    sandbox = Sandbox(sleep=slept.append)
    catalog = sandboxed_catalog
    sandbox.inject("*", slow_seconds=1.5)
    client_for(sandbox, catalog, "stripe").get("/customers")
    assert slept == [1.5]


def test_error_rate_is_deterministic_by_seed(sandbox: Sandbox, sandboxed_catalog: Catalog) -> None:
    """The same seed fails the same requests on every run."""

    def outcomes() -> list[bool]:
        sandbox.inject("stripe", error_rate=0.5, seed=42)
        client = client_for(sandbox, sandboxed_catalog, "stripe")
        results = []
        for _ in range(12):
            try:
                client.get("/balance")
                results.append(True)
            except ServerError:
                results.append(False)
        return results

    first = outcomes()
    assert first == outcomes()
    assert True in first and False in first


def test_not_found_is_permanent_with_body_excerpt(
    sandbox: Sandbox, sandboxed_catalog: Catalog
) -> None:
    """Other 4xx raise PermanentError with the status and the provider's error body."""
    client = client_for(sandbox, sandboxed_catalog, "stripe")
    with pytest.raises(PermanentError) as info:
        client.get("/nope")
    assert info.value.status == 404
    assert "Unrecognized request URL" in info.value.body


def test_expired_token_is_auth_error(sandboxed_catalog: Catalog) -> None:
    """A token past its lifetime (sandbox clock) is refused with AuthError."""
    now = [1000.0]
    sandbox = Sandbox(clock=lambda: now[0])
    client = client_for(sandbox, sandboxed_catalog, "hubspot")
    client.get("/crm/v3/objects/contacts")
    now[0] += 1801
    with pytest.raises(AuthError):
        client.get("/crm/v3/objects/contacts")


def test_connection_error_is_connection_failed(sandboxed_catalog: Catalog) -> None:
    """A refused connection raises ConnectionFailed (transient), not an httpx error."""

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    spec = sandboxed_catalog.get("stripe")
    from providers.auth import ApiKey
    from providers.client import ProviderClient

    client = ProviderClient(
        spec, {}, ApiKey("sk_test_sandbox"), transport=httpx.MockTransport(refuse)
    )
    with pytest.raises(ConnectionFailed) as info:
        client.get("/customers")
    assert isinstance(info.value, TransientError) and isinstance(info.value, ProviderError)


def test_errors_never_show_credentials(sandbox: Sandbox, sandboxed_catalog: Catalog) -> None:
    """Messages, reprs and body excerpts of errors hold no secret, even when echoed back."""
    token = credential_for(sandbox, "hubspot")
    client = client_for(sandbox, sandboxed_catalog, "hubspot", token)
    sandbox.revoke("hubspot")
    with pytest.raises(AuthError) as info:
        client.get("/crm/v3/objects/contacts")
    secret = token.secrets()[0]
    assert secret not in str(info.value) and secret not in repr(info.value)
    assert secret not in repr(token) and secret not in repr(client)


def test_every_exchange_is_told_to_the_observer(sandboxed_catalog: Catalog) -> None:
    """The observer hears each answer's status (429 included) and None when none came."""
    answers = iter([httpx.Response(200, json={}), httpx.Response(429, json={})])

    def reply(request: httpx.Request) -> httpx.Response:
        try:
            return next(answers)
        except StopIteration:
            raise httpx.ConnectError("refused", request=request) from None

    from providers.auth import ApiKey
    from providers.client import ProviderClient

    seen: list[tuple[str, int | None, float]] = []
    client = ProviderClient(
        sandboxed_catalog.get("stripe"),
        {},
        ApiKey("sk_test_sandbox"),
        transport=httpx.MockTransport(reply),
        observe=lambda *exchange: seen.append(exchange),
    )
    client.get("/customers")
    with pytest.raises(RateLimited):
        client.get("/customers")
    with pytest.raises(ConnectionFailed):
        client.get("/customers")
    assert [(provider, status) for provider, status, _ in seen] == [
        ("stripe", 200),
        ("stripe", 429),
        ("stripe", None),
    ]
    assert all(seconds >= 0 for _, _, seconds in seen)
