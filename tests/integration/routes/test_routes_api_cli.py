"""Routes over HTTP (/v1/routes) and the CLI (switchyard routes ...)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.api.app import create_app
from switchyard.cli import _register
from switchyard.cli import app as cli_app
from switchyard.runtime import Runtime, build_runtime
from switchyard.settings import load_settings
from tests.conftest import sandboxed_runtime, unique
from tests.integration.routes.qr_route import QR_ROUTE, SCAN, connect_qr_providers


@pytest.fixture(params=["embedded", "servers"])
def rt(request: pytest.FixtureRequest, tmp_path: Path, namespace: str) -> Iterator[Runtime]:
    yield from sandboxed_runtime(
        backend=request.param, tmp_path=tmp_path, namespace=namespace, request=request
    )


@pytest.fixture
def setup(rt: Runtime) -> dict[str, Any]:
    with rt.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("api")).id
        other = OrganizationRepository(session).create(unique("other")).id
        key = ApiKeyRepository(session).create(org, "ci").key.reveal()
        other_key = ApiKeyRepository(session).create(other, "ci").key.reveal()
    connect_qr_providers(rt, org)
    return {
        "org": org,
        "key": {"Authorization": f"Bearer {key}"},
        "other": {"Authorization": f"Bearer {other_key}"},
    }


def test_route_lifecycle_over_http(rt: Runtime, setup: dict[str, Any]) -> None:
    """Create (201), list, show, dry-run, delete (204), then 404; other orgs never see it."""
    with TestClient(create_app(rt)) as client:
        created = client.post("/v1/routes", json=QR_ROUTE, headers=setup["key"])
        assert created.status_code == 201, created.text
        assert client.post("/v1/routes", json=QR_ROUTE, headers=setup["key"]).status_code == 409
        names = [r["name"] for r in client.get("/v1/routes", headers=setup["key"]).json()["items"]]
        assert names == ["qr-to-crm"]
        assert client.get("/v1/routes", headers=setup["other"]).json()["items"] == []
        assert client.get("/v1/routes/qr-to-crm", headers=setup["other"]).status_code == 404
        preview = client.post(
            "/v1/routes/qr-to-crm/test", json={"data": SCAN}, headers=setup["key"]
        )
        assert preview.json()["steps"][0]["input"]["email"] == "ada@example.com"
        assert client.delete("/v1/routes/qr-to-crm", headers=setup["key"]).status_code == 204
        assert client.get("/v1/routes/qr-to-crm", headers=setup["key"]).status_code == 404


def test_bad_route_is_422_naming_each_field(rt: Runtime, setup: dict[str, Any]) -> None:
    """An unknown action and a bad template come back as field errors."""
    bad = {
        **QR_ROUTE,
        "steps": [
            {"provider": "slack", "action": "nope"},
            {
                "provider": "slack",
                "action": "post_message",
                "input": {"channel": "{{ data.c | x }}", "text": "t"},
            },
        ],
    }
    with TestClient(create_app(rt)) as client:
        response = client.post("/v1/routes", json=bad, headers=setup["key"])
    assert response.status_code == 422
    fields = {d["field"] for d in response.json()["error"]["fields"]}
    assert fields == {"steps.0.action", "steps.1.input.channel"}


def test_event_posted_over_http_fans_out_to_the_route(rt: Runtime, setup: dict[str, Any]) -> None:
    """POST /v1/events for a routed type reports one job (the route's first step)."""
    with TestClient(create_app(rt)) as client:
        client.post("/v1/routes", json=QR_ROUTE, headers=setup["key"])
        body = {"type": "QR_SCANNED", "data": SCAN}
        assert client.post("/v1/events", json=body, headers=setup["key"]).json()["jobs"] == 1


def test_routes_cli(clean_env: Path) -> None:
    """switchyard routes create|list|test|delete on the embedded default; errors exit 2."""
    runtime = build_runtime(load_settings(_env_file=None, data_dir=clean_env))
    with runtime.sessions.begin() as session:
        org = OrganizationRepository(session).create(unique("cli")).id
    connect_qr_providers(runtime, org)
    runtime.close()
    _register()
    cli = CliRunner()
    env = {"SWITCHYARD_DATA_DIR": str(clean_env)}
    (clean_env / "route.json").write_text(json.dumps(QR_ROUTE))
    created = cli.invoke(cli_app, ["routes", "create", "--org", org, "@route.json"], env=env)
    assert created.exit_code == 0, created.output
    listed = cli.invoke(cli_app, ["routes", "list", "--org", org, "--json"], env=env)
    assert json.loads(listed.output)[0]["name"] == "qr-to-crm"
    tested = cli.invoke(
        cli_app, ["routes", "test", "--org", org, "qr-to-crm", "--data", json.dumps(SCAN)], env=env
    )
    assert json.loads(tested.output)["matches"] is True
    bad = cli.invoke(
        cli_app,
        [
            "routes",
            "create",
            "--org",
            org,
            '{"name": "x", "event_type": "A", "steps": [{"provider": "slack", "action": "nope"}]}',
        ],
        env=env,
    )
    assert bad.exit_code == 2 and "steps.0.action" in bad.output
    deleted = cli.invoke(cli_app, ["routes", "delete", "--org", org, "qr-to-crm"], env=env)
    assert deleted.exit_code == 0
    listed = cli.invoke(cli_app, ["routes", "actions", "--provider", "twilio", "--json"], env=env)
    rows = {r["action"]: r for r in json.loads(listed.output)}
    assert set(rows) == {"send_sms", "send_whatsapp", "proxy"}
    assert rows["send_sms"]["required"] == ["body", "from", "to"]
