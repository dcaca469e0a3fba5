"""API clients, keys and the OAuth dance against the sandbox for the connection tests."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from fastapi.testclient import TestClient

from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.runtime import Runtime
from tests.conftest import unique


def org_keys(rt: Runtime) -> dict[str, str]:
    """Two orgs with a key each, and an admin key."""
    with rt.sessions.begin() as session:
        orgs, keys = OrganizationRepository(session), ApiKeyRepository(session)
        a, b = orgs.create(unique("alpha")).id, orgs.create(unique("beta")).id
        return {
            "a": a,
            "b": b,
            "key_a": keys.create(a, "app").key.reveal(),
            "key_b": keys.create(b, "app").key.reveal(),
            "admin": keys.create(None, "ops").key.reveal(),
        }


def auth(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def consent(rt: Runtime, authorize_url: str) -> dict[str, str]:
    """Follow the authorize URL to the sandbox (which approves at once): code and state."""
    assert rt.sandbox is not None
    with httpx.Client(transport=rt.sandbox.transport()) as http:
        answer = http.get(authorize_url)
    assert answer.status_code == 302, answer.text
    query = parse_qs(urlsplit(answer.headers["location"]).query)
    return {"code": query["code"][0], "state": query["state"][0]}


def start(client: TestClient, key: str, provider: str = "hubspot", **body: Any) -> dict[str, Any]:
    response = client.post(
        "/v1/connections/oauth/start", json={"provider": provider, **body}, headers=auth(key)
    )
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    return data


def error_field(response: httpx.Response) -> str:
    """The first offending field of an error answer, else its message."""
    error = response.json()["error"]
    return str(error["fields"][0]["field"]) if error["fields"] else str(error["message"])
