"""The published contract: a valid OpenAPI document, equal to the reviewed snapshot, in
which every operation states its id, tag, body, answers and security; ``/docs`` works
offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate

from switchyard.api.app import create_app
from switchyard.runtime import build_runtime
from switchyard.settings import load_settings

SNAPSHOT = Path(__file__).parents[3] / "fixtures" / "openapi.json"
REFRESH = "python -m switchyard.api.openapi > tests/fixtures/openapi.json"
ERROR_REF = {"$ref": "#/components/schemas/Error"}


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """The API on the embedded default (no services needed to describe it)."""
    settings = load_settings(
        _env_file=None, redis_url=None, database_url=None, data_dir=tmp_path_factory.mktemp("d")
    )
    runtime = build_runtime(settings)
    with TestClient(create_app(runtime)) as test_client:
        yield test_client
    runtime.close()


@pytest.fixture(scope="module")
def document(client: TestClient) -> dict[str, Any]:
    served: dict[str, Any] = client.get("/openapi.json").json()
    return served


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_document_is_valid_openapi(document: dict[str, Any]) -> None:
    """openapi-spec-validator accepts the served document."""
    validate(document)


def test_document_matches_the_reviewed_snapshot(document: dict[str, Any]) -> None:
    """A contract change must be reviewed: refresh the snapshot with the command below."""
    snapshot = json.loads(SNAPSHOT.read_text())
    assert document == snapshot, f"the API contract changed; review it, then run: {REFRESH}"


def test_every_operation_has_a_stable_id_a_tag_and_security(document: dict[str, Any]) -> None:
    """Operation ids are the route functions' names, unique; every operation is tagged and
    states its security (API key, or none for health, inbound and the OAuth redirect)."""
    ids = [op["operationId"] for _, op in operations(document)]
    assert len(ids) == len(set(ids)) >= 37
    assert "create_job" in ids and "replay_dead_jobs" in ids
    for label, operation in operations(document):
        assert operation["tags"], label
        keyed = (
            label.split()[1].startswith("/v1/") and label != "GET /v1/connections/oauth/callback"
        )
        assert bool(operation["security"]) is keyed, label


def test_every_error_answer_uses_the_one_error_schema(document: dict[str, Any]) -> None:
    """Every 4xx and 5xx an operation declares refers to the Error schema; keyed operations
    declare 401/403, bodies 413/422, every operation 503."""
    for label, operation in operations(document):
        answers = operation["responses"]
        for status, answer in answers.items():
            if status[0] in "45":
                assert answer["content"]["application/json"]["schema"] == ERROR_REF, label
        assert "503" in answers, label
        if operation["security"]:
            assert {"401", "403"} <= set(answers), label
        if "requestBody" in operation:
            assert {"413", "422"} <= set(answers), label
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_json_bodies_are_declared_on_every_route_that_takes_one(document: dict[str, Any]) -> None:
    """POST routes taking JSON declare their body's schema (no hand-parsed bodies)."""
    bodiless = {"/check", "/disable", "/enable", "/{delivery_id}/replay"}
    for label, operation in operations(document):
        method, path = label.split(" ", 1)
        if method != "POST" or path.startswith("/webhooks/") or path.endswith(tuple(bodiless)):
            continue
        content = operation["requestBody"]["content"]["application/json"]
        assert "$ref" in content["schema"] or "anyOf" in content["schema"], label


def test_every_list_answers_the_shared_page_shape(document: dict[str, Any]) -> None:
    """Every list operation answers ``items`` and ``next_cursor``."""
    schemas = document["components"]["schemas"]
    lists = [
        op
        for label, op in operations(document)
        if label.startswith("GET") and "list_" in op["operationId"]
    ]
    assert len(lists) >= 7
    for operation in lists:
        ref = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        properties = schemas[ref.rsplit("/", 1)[1]]["properties"]
        assert {"items", "next_cursor"} <= set(properties), operation["operationId"]


def test_docs_are_served_without_a_cdn(client: TestClient) -> None:
    """/docs loads Swagger UI from this process; its script and stylesheet are served."""
    page = client.get("/docs")
    assert page.status_code == 200
    assert "cdn." not in page.text and "/docs/assets/swagger-ui-bundle.js" in page.text
    script = client.get("/docs/assets/swagger-ui-bundle.js")
    assert script.status_code == 200 and len(script.content) > 100_000
    assert client.get("/docs/assets/swagger-ui.css").status_code == 200
