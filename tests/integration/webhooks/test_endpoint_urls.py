"""Endpoint URLs are validated when registered, by the sender's own parser and the outbound
policy: what is accepted can be delivered, what is refused says why (issue #17, finding 4)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from storage.repositories.api_keys import ApiKeyRepository
from switchyard.api.app import create_app
from switchyard.cli import _register, app
from switchyard.runtime import Runtime
from switchyard.services.errors import InvalidInput

pytestmark = pytest.mark.integration

#: URLs the sender cannot send (or must not): all were stored, then dead-lettered or sent
#: to the wrong port; the first was a 500 / a traceback.
UNDELIVERABLE = [
    "http://[::1/",
    "http://256.0.0.1/",
    "http://127.000.000.001/",
    "http://0177.0.0.1/",
    "http://\uff11\uff12\uff17.0.0.1/",
    "http://\uff48ooks.example.com/",
    "http://hooks.example.com:80:80/",
    "http://hooks.example.com:83966/",
    "http://hooks.example.com:65536/",
    "http://hooks.example.com:0/",
    "http://127.1:8080/",
    "http://2130706433/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/",
    "http://localhost:8080/",
    "http://hooks.example.com:25/",
]


@pytest.fixture
def client(hooks_runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(hooks_runtime)) as test_client:
        yield test_client


@pytest.fixture
def key(hooks_runtime: Runtime, hooks_org: str) -> str:
    with hooks_runtime.sessions.begin() as session:
        return ApiKeyRepository(session).create(hooks_org, "ci").key.reveal()


def _create(client: TestClient, key: str, url: str) -> Any:
    return client.post(
        "/v1/webhooks/endpoints", json={"url": url}, headers={"Authorization": f"Bearer {key}"}
    )


@pytest.mark.parametrize("url", UNDELIVERABLE)
def test_api_refuses_undeliverable_urls_with_the_reason(
    client: TestClient, key: str, url: str
) -> None:
    """422 naming ``url`` with a reason; nothing is stored."""
    answer = _create(client, key, url)
    assert answer.status_code == 422, answer.text
    [error] = answer.json()["error"]["fields"]
    assert error["field"] == "url" and error["message"]
    listed = client.get("/v1/webhooks/endpoints", headers={"Authorization": f"Bearer {key}"})
    body = listed.json()
    assert (body["items"] if isinstance(body, dict) else body) == []


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/in?x=1",
        "http://hooks.example.com:8080/",
        "http://127.0.0.1:9000/",
    ],
)
def test_api_accepts_deliverable_urls(client: TestClient, key: str, url: str) -> None:
    """Public names and allowed ports pass; loopback passes only because this operator
    allowed it (the fixture's outbound.allowed_networks)."""
    answer = _create(client, key, url)
    assert answer.status_code == 201, answer.text


def test_loopback_is_refused_where_the_operator_did_not_allow_it(
    hooks_runtime: Runtime, hooks_org: str
) -> None:
    """Production defaults: a loopback receiver is refused at registration."""
    from providers.outbound import OutboundPolicy
    from switchyard.services.webhooks import create_endpoint

    with pytest.raises(InvalidInput, match="loopback"):
        create_endpoint(
            hooks_runtime.sessions,
            hooks_runtime.keyring,
            hooks_org,
            {"url": "http://127.0.0.1:9000/"},
            policy=OutboundPolicy(),
        )


@pytest.mark.parametrize("url", ["http://[::1/", "http://hooks.example.com:83966/"])
def test_cli_reports_an_undeliverable_url_in_one_line(
    hooks_runtime: Runtime, hooks_org: str, clean_env: Path, url: str
) -> None:
    """`webhooks endpoints create` prints one error line naming the field, no traceback."""
    s = hooks_runtime.settings
    _register()
    env = {
        "SWITCHYARD_DATA_DIR": str(s.data_dir),
        "SWITCHYARD_WORKERS__NAMESPACE": s.workers.namespace,
    }
    if not s.embedded:
        assert s.redis_url and s.database_url
        env |= {
            "SWITCHYARD_REDIS_URL": s.redis_url,
            "SWITCHYARD_DATABASE_URL": s.database_url,
            "SWITCHYARD_SECURITY__ENCRYPTION_KEYS": ",".join(s.security.encryption_keys),
        }
    result = CliRunner().invoke(
        app, ["webhooks", "endpoints", "create", "--org", hooks_org, "--url", url], env=env
    )
    assert result.exit_code != 0 and isinstance(result.exception, SystemExit)  # no crash
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "url" in lines[0] and "Traceback" not in result.output
