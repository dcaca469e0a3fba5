"""Validation at the door (issue 19, item 7): what a worker would refuse is refused at
enqueue, naming the field, in the Python producer, the API and the CLI; orgs by id or name."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from contract.envelope import InvalidJobError
from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.api.app import create_app
from switchyard.cli import app
from switchyard.runtime import Runtime
from tests.conftest import unique
from tests.integration.cli.test_enqueue_cli import env

pytestmark = pytest.mark.integration
__all__ = ["env"]


def job(org: str, provider: str = "slack", **payload: Any) -> dict[str, Any]:
    return {"kind": "action", "org_id": org, "provider": provider, "payload": payload}


def refused(runtime: Runtime, data: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidJobError) as exc:
        runtime.enqueuer.enqueue(data)
    return [e.field for e in exc.value.errors]


def test_unknown_action_is_refused_naming_the_action(runtime: Runtime, org_id: str) -> None:
    """{"action": "teleport"} is refused at enqueue on payload.action, not dead-lettered later."""
    assert refused(runtime, job(org_id, action="teleport")) == ["payload.action"]


def test_action_input_the_action_would_refuse_is_refused(runtime: Runtime, org_id: str) -> None:
    """Inputs are checked with the action's own typed input model, naming the input field."""
    assert refused(runtime, job(org_id, action="noop", input={"duration_ms": -1})) == [
        "payload.input.duration_ms"
    ]
    fields = refused(runtime, job(org_id, action="post_message", input={"text": "hi", "x": 1}))
    assert "payload.input.channel" in fields and "payload.input.x" in fields


def test_unknown_sync_model_is_refused(runtime: Runtime, org_id: str) -> None:
    """A sync of a model the provider has no definition for is refused on payload.model."""
    data = {
        "kind": "sync",
        "org_id": org_id,
        "provider": "hubspot",
        "payload": {"model": "unicorns"},
    }
    assert refused(runtime, data) == ["payload.model"]
    ok = {**data, "payload": {"model": "contacts"}}
    assert not runtime.enqueuer.enqueue(ok).duplicate


def test_org_by_name_is_laned_under_its_id(runtime: Runtime) -> None:
    """The producer takes an org's unique name and lanes the job under the org's id."""
    name = unique("named")
    with runtime.sessions.begin() as session:
        org_id = OrganizationRepository(session).create(name).id
    runtime.enqueuer.enqueue(job(name, action="noop"))
    lane = runtime.lanes.prefix("action") + f":lane:{org_id}"
    assert runtime.redis.zcard(lane) == 1


def test_a_name_that_is_another_orgs_id_is_ambiguous(runtime: Runtime) -> None:
    """A value that is one org's id and another org's name is refused, never guessed."""
    with runtime.sessions.begin() as session:
        orgs = OrganizationRepository(session)
        first = orgs.create(unique("first")).id
        orgs.create(first)  # a second org whose name is the first one's id
    with pytest.raises(InvalidJobError) as exc:
        runtime.enqueuer.enqueue(job(first, action="noop"))
    [error] = exc.value.errors
    assert error.field == "org_id" and "ambiguous" in error.message


@pytest.fixture
def api(runtime: Runtime) -> Iterator[tuple[TestClient, dict[str, str]]]:
    name = unique("door")
    with runtime.sessions.begin() as session:
        org = OrganizationRepository(session).create(name).id
        keys = ApiKeyRepository(session)
        headers = {
            "org": keys.create(org, "k").key.reveal(),
            "admin": keys.create(None, "a").key.reveal(),
            "name": name,
        }
    with TestClient(create_app(runtime)) as client:
        yield client, headers


def test_api_refuses_teleport_with_422(api: tuple[TestClient, dict[str, str]]) -> None:
    """POST /v1/jobs with an unknown action answers 422 naming payload.action."""
    client, keys = api
    body = {"kind": "action", "provider": "slack", "payload": {"action": "teleport"}}
    answer = client.post("/v1/jobs", json=body, headers={"Authorization": f"Bearer {keys['org']}"})
    assert answer.status_code == 422
    assert [f["field"] for f in answer.json()["error"]["fields"]] == ["payload.action"]


def test_api_takes_the_org_by_name(api: tuple[TestClient, dict[str, str]]) -> None:
    """An admin key names the org by name; an org key may name itself by name."""
    client, keys = api
    body = {"kind": "action", "provider": "slack", "payload": {"action": "noop"}}
    for key in ("admin", "org"):
        answer = client.post(
            "/v1/jobs",
            json={**body, "org_id": keys["name"]},
            headers={"Authorization": f"Bearer {keys[key]}"},
        )
        assert answer.status_code == 201, answer.text


def test_cli_refuses_teleport_naming_the_field(
    env: dict[str, str], server_runtime: Runtime
) -> None:
    """`switchyard enqueue` refuses an unknown action at once, naming payload.action."""
    with server_runtime.sessions.begin() as session:
        name = OrganizationRepository(session).create(unique("cli")).name
    args = ["enqueue", "--org", name, "--provider", "slack", "--kind", "action"]
    result = CliRunner().invoke(app, [*args, "--payload", '{"action": "teleport"}'], env=env)
    assert result.exit_code == 2, result.output
    assert "payload.action: unknown action 'teleport'" in result.stderr
