"""Redis or PostgreSQL down: every route answers JSON 503 with Retry-After, never a 500, and
the API recovers by itself once the server is back (private servers the tests kill)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from prometheus_client import REGISTRY

from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.connections import ConnectionRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.api.app import create_app
from switchyard.runtime import Runtime, build_runtime
from tests.conftest import unique
from tests.integration.private_servers import (
    PrivatePostgres,
    PrivateRedis,
    private_postgres,
    private_redis,
    server_settings,
)
from tests.integration.webhooks.inbound_cases import CASES, Case

pytestmark = pytest.mark.integration
JOB = {"kind": "action", "provider": "hubspot", "payload": {"action": "noop"}}
RETRY_AFTER = "5"  # the production default of SWITCHYARD_API__RETRY_AFTER_SECONDS
STRIPE = next(case for case in CASES if case.provider == "stripe")


@dataclass
class Api:
    """An API app on a private Redis and PostgreSQL, with one org key and one admin key."""

    runtime: Runtime
    client: TestClient
    redis: PrivateRedis
    postgres: PrivatePostgres
    org_key: str
    admin_key: str

    def post_job(self, key: str | None = None, **extra: str) -> Response:
        headers = {"Authorization": f"Bearer {key or self.org_key}"}
        return self.client.post("/v1/jobs", json={**JOB, **extra}, headers=headers)

    def get(self, path: str) -> Response:
        return self.client.get(path, headers={"Authorization": f"Bearer {self.org_key}"})


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[PrivateRedis, PrivatePostgres]]:
    """One private Redis and PostgreSQL for the module; each test gets them running."""
    with private_redis(tmp_path_factory.mktemp("redis")) as redis, private_postgres() as pg:
        yield redis, pg


@pytest.fixture
def api(
    servers: tuple[PrivateRedis, PrivatePostgres], tmp_path: Path, namespace: str
) -> Iterator[Api]:
    redis, postgres = servers
    settings = server_settings(
        redis.url,
        postgres.url,
        tmp_path,
        namespace,
        providers={"stripe": {"webhook_secret": STRIPE.secret}},
    )
    runtime = build_runtime(settings)
    org_key, admin_key = _keys(runtime)
    try:
        with TestClient(create_app(runtime), raise_server_exceptions=False) as client:
            yield Api(runtime, client, redis, postgres, org_key, admin_key)
    finally:
        runtime.close()
        redis.start()
        postgres.start()


def _keys(runtime: Runtime) -> tuple[str, str]:
    with runtime.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("outage")).id
        keys = ApiKeyRepository(session)
        return keys.create(org, "ci").key.reveal(), keys.create(None, "ops").key.reveal()


def stripe_connection(runtime: Runtime) -> Case:
    """A Stripe connection in a new org, and the webhook case addressed to it."""
    account = STRIPE.new_account(uuid.uuid4().hex[:10])
    with runtime.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("inbound")).id
        identifier = {STRIPE.key: account}
        repo = ConnectionRepository(session, org)
        conn = repo.create("stripe", account_identifier=identifier)
        repo.set_account_proof(conn.id, account, "token_response")
    return replace(STRIPE, path="/webhooks/stripe", account=account)


def assert_unavailable(response: Response, dependency: str) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == RETRY_AFTER
    assert response.headers["content-type"] == "application/json"
    assert dependency in response.json()["error"]["message"]


def unavailable_count(source: str) -> float:
    return REGISTRY.get_sample_value("switchyard_api_unavailable_total", {"source": source}) or 0


def test_enqueue_while_redis_is_down_is_503_then_recovers(api: Api) -> None:
    """POST /v1/jobs answers JSON 503 + Retry-After while Redis is down (counted in
    switchyard_api_unavailable_total), 201 once it is back."""
    before = unavailable_count("redis")
    api.redis.kill()
    assert_unavailable(api.post_job(idempotency_key="k1"), "Redis")
    assert unavailable_count("redis") == before + 1
    api.redis.start()
    assert api.post_job(idempotency_key="k1").status_code == 201


def test_inbound_webhook_while_redis_is_down_is_503_then_recovers(api: Api) -> None:
    """A provider's webhook gets JSON 503 + Retry-After while Redis is down (it will retry),
    and is accepted once Redis is back."""
    case = stripe_connection(api.runtime)
    api.redis.kill()
    body, headers = case.signed()
    assert_unavailable(api.client.post(case.path, content=body, headers=headers), "Redis")
    api.redis.start()
    response = api.client.post(case.path, content=body, headers=headers)
    assert response.json() == {"accepted": 1, "duplicates": 0}


def test_unseen_key_while_the_database_is_down_is_503_then_recovers(api: Api) -> None:
    """A key not yet cached cannot be checked while PostgreSQL is down: JSON 503, then 201."""
    api.postgres.stop()
    assert_unavailable(api.post_job(), "database")
    api.postgres.start()
    assert api.post_job().status_code == 201


def test_recently_seen_key_enqueues_through_a_database_blip(api: Api) -> None:
    """A key authenticated moments ago keeps enqueuing while PostgreSQL is down."""
    assert api.post_job().status_code == 201
    api.postgres.stop()
    assert api.post_job().status_code == 201


@pytest.mark.parametrize(
    "path",
    [
        "/v1/connections",
        "/v1/routes",
        "/v1/webhooks/endpoints",
        "/v1/webhooks/deliveries",
        "/v1/syncs/runs",
        "/v1/records?model=contacts&provider=hubspot",
    ],
)
def test_database_routes_answer_503_while_it_is_down(api: Api, path: str) -> None:
    """Routes reading PostgreSQL answer JSON 503 + Retry-After while it is down."""
    assert api.get(path).status_code < 500  # the key is now cached
    api.postgres.stop()
    assert_unavailable(api.get(path), "database")


def test_admin_routes_answer_503_while_the_database_is_down(api: Api) -> None:
    """The dead-letter queue listing answers JSON 503 while PostgreSQL is down."""
    headers = {"Authorization": f"Bearer {api.admin_key}"}
    assert api.client.get("/v1/dlq", headers=headers).status_code == 200
    api.postgres.stop()
    assert_unavailable(api.client.get("/v1/dlq", headers=headers), "database")


@pytest.mark.parametrize("down", ["redis", "database"])
def test_readyz_is_503_while_a_dependency_is_down(api: Api, down: str) -> None:
    """/readyz answers 503 with Retry-After naming the dependency that is down, 200 after."""
    server = api.redis if down == "redis" else api.postgres
    assert api.client.get("/readyz").status_code == 200
    server.kill() if isinstance(server, PrivateRedis) else server.stop()
    response = api.client.get("/readyz")
    assert response.status_code == 503
    assert response.headers["retry-after"] == RETRY_AFTER
    assert response.json()["checks"][down].startswith("unreachable")
    server.start()
    assert api.client.get("/readyz").status_code == 200
