"""Hosts tenants name in connections meet the outbound policy: at connect time (422 naming the
field) and at every request, from the API process (connection checks) as from workers, with
one answer for a refused destination and a failed connection (issue #17, findings 1 and 3)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from providers.outbound import UNREACHABLE
from storage.repositories.connections import ConnectionRepository
from storage.repositories.dead_jobs import AdminDeadJobRepository, DeadJobFilter
from storage.repositories.organizations import OrganizationRepository
from switchyard.api.app import create_app
from switchyard.runtime import Runtime, build_runtime
from switchyard.service_deps import connection_deps
from switchyard.services.connections.records import NewCredential, save_connection
from switchyard.settings import OutboundSettings
from tests.conftest import runtime_settings, unique
from tests.integration.credentials.api_helpers import auth, error_field, org_keys
from workers.inprocess import run_until_idle

BASIC = {"username": "ck_test", "password": "cs_test"}
INTERNAL_STORE_HOSTS = [
    "127.0.0.1:18434",
    "169.254.169.254",
    "100.100.100.200",
    "10.0.0.5",
    "0.0.0.0",  # noqa: S104 - a host under test, not a bind
    "localhost:8080",
    "127.1",
    "2130706433",
    "shop.example.com:22",
]


@pytest.mark.parametrize("host", INTERNAL_STORE_HOSTS)
def test_connect_refuses_internal_store_hosts_naming_the_field(
    sandboxed: Runtime, client: TestClient, host: str
) -> None:
    """Loopback, metadata, private, local names, numeric spellings, closed ports: 422 on
    ``account.store_host`` with the reason, nothing stored (they were accepted with 201)."""
    keys = org_keys(sandboxed)
    answer = client.post(
        "/v1/connections",
        json={"provider": "woocommerce", "account": {"store_host": host}, **BASIC},
        headers=auth(keys["key_a"]),
    )
    assert answer.status_code == 422, answer.text
    assert error_field(answer) == "account.store_host"
    listed = client.get("/v1/connections", headers=auth(keys["key_a"])).json()
    assert listed == [] or listed.get("connections", listed.get("items")) == []


def test_connect_accepts_a_public_store_host(sandboxed: Runtime, client: TestClient) -> None:
    """A public name passes (DNS is checked at each request, not here)."""
    keys = org_keys(sandboxed)
    answer = client.post(
        "/v1/connections",
        json={"provider": "woocommerce", "account": {"store_host": "shop.example.com"}, **BASIC},
        headers=auth(keys["key_a"]),
    )
    assert answer.status_code == 201, answer.text


# -- a runtime talking to the network (no sandbox), as in production ------------------------


@pytest.fixture
def networked(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    """Real Redis and PostgreSQL, no sandbox: provider calls open real sockets."""
    settings = runtime_settings(
        backend="servers", tmp_path=tmp_path, namespace=namespace, request=request
    )
    rt = build_runtime(settings)
    assert rt.sandbox is None
    yield rt
    rt.close()


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A listening loopback socket that records whether anyone connected."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.settimeout(0.2)
        yield sock


@pytest.mark.parametrize(
    ("provider", "account"),
    [
        ("custom_webhook", {"host": "169.254.169.254"}),
        ("n8n", {"host": "127.0.0.1:5678", "webhook_path": "orders"}),
    ],
)
def test_other_tenant_hosts_are_checked_at_connect(
    networked: Runtime, provider: str, account: dict[str, str]
) -> None:
    """custom_webhook and n8n hosts meet the same policy (a sandbox moves them into its
    path, so this runs against the catalog's own URLs)."""
    keys = org_keys(networked)
    with TestClient(create_app(networked)) as http:
        answer = http.post(
            "/v1/connections",
            json={"provider": provider, "account": account},
            headers=auth(keys["key_a"]),
        )
    assert answer.status_code == 422, answer.text
    assert error_field(answer) == "account.host"


def _connected(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except TimeoutError:
        return False
    conn.close()
    return True


def _stored(rt: Runtime, org: str, host: str, name: str = "default") -> str:
    """A woocommerce connection stored as it could have been before connect-time checks."""
    view: dict[str, Any] = save_connection(
        connection_deps(rt),
        org,
        "woocommerce",
        name=name,
        account={"store_host": host},
        credential=NewCredential("basic", secret="cs_test", extra={"username": "ck_test"}),
        actor="test",
    )
    return str(view["id"])


def _check(rt: Runtime, key: str, connection_id: str) -> dict[str, Any]:
    with TestClient(create_app(rt)) as http:
        answer = http.post(f"/v1/connections/{connection_id}/check", headers=auth(key))
    assert answer.status_code < 500, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_a_check_never_opens_a_connection_to_a_stored_loopback_host(
    networked: Runtime, listener: socket.socket
) -> None:
    """The API process checking a connection whose host is loopback refuses before
    connecting: the listener sees nothing (it used to be reached)."""
    keys = org_keys(networked)
    port = listener.getsockname()[1]
    connection_id = _stored(networked, keys["a"], f"127.0.0.1:{port}")
    result = _check(networked, keys["key_a"], connection_id)
    assert result["ok"] is False and result["status"] is None
    assert result["detail"].endswith(UNREACHABLE)
    assert not _connected(listener)


def test_a_refusal_and_a_closed_port_answer_alike(
    request: pytest.FixtureRequest, tmp_path: Path, namespace: str
) -> None:
    """With loopback allowed by the operator, a closed port and a refused (private) host give
    checks that differ only in the URL: no port-scanning oracle."""
    settings = runtime_settings(
        backend="servers", tmp_path=tmp_path, namespace=namespace, request=request
    )
    allowed = OutboundSettings(allowed_networks=["127.0.0.1/32"])
    rt = build_runtime(settings.model_copy(update={"outbound": allowed}))
    try:
        keys = org_keys(rt)
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed = probe.getsockname()[1]
        closed_id = _stored(rt, keys["a"], f"127.0.0.1:{closed}", "closed")
        refused_id = _stored(rt, keys["a"], "10.0.0.5:8443", "refused")
        answers = [_check(rt, keys["key_a"], i) for i in (closed_id, refused_id)]
    finally:
        rt.close()
    assert [a["ok"] for a in answers] == [False, False]
    assert [a["status"] for a in answers] == [None, None]
    assert {a["detail"].rsplit(": ", 1)[-1] for a in answers} == {UNREACHABLE}


def test_a_custom_webhook_action_from_a_worker_never_reaches_loopback(
    networked: Runtime, listener: socket.socket
) -> None:
    """The ``send`` action of a custom_webhook connection whose host is loopback: the
    worker's call is refused before connecting, and the job is dead-lettered ``blocked``."""
    port = listener.getsockname()[1]
    with networked.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("hook")).id
        ConnectionRepository(session, org).create(
            "custom_webhook", account_identifier={"host": f"127.0.0.1:{port}"}
        )
    networked.enqueuer.enqueue(
        {
            "kind": "action",
            "org_id": org,
            "provider": "custom_webhook",
            "payload": {"action": "send", "input": {"path": "/in", "body": {"x": 1}}},
        }
    )
    run_until_idle(networked.worker_broker, networked.lanes, timeout_s=30)
    with networked.sessions() as session:
        [job] = AdminDeadJobRepository(session).list(DeadJobFilter(org_id=org))
    assert job.error_class == "blocked" and job.error_message.endswith(UNREACHABLE)
    assert not _connected(listener)
