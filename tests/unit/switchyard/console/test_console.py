"""Console sessions, masking and request handling on the embedded default (fakeredis,
SQLite); the browser suite (tests/browser) covers the pages end to end."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import fakeredis
from fastapi.testclient import TestClient

from storage.repositories.api_keys import ApiKeyRepository
from switchyard.api.app import create_app
from switchyard.console.guard import COOKIE
from switchyard.console.sessions import SessionStore
from switchyard.console.web import mask_secrets, mask_url
from switchyard.runtime import Runtime
from tests.conftest import new_org


def issue_key(rt: Runtime, org_id: str | None) -> tuple[str, str]:
    with rt.sessions.begin() as session:
        issued = ApiKeyRepository(session).create(org_id, "console")
        return issued.api_key.id, issued.key.reveal()


def sign_in(client: TestClient, key: str) -> int:
    form = client.get("/console/sign-in").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token is not None
    answer = client.post(
        "/console/sign-in", data={"api_key": key, "csrf": token.group(1)}, follow_redirects=False
    )
    return answer.status_code


def test_slack_style_urls_are_masked_past_the_host() -> None:
    """The path and query (where such URLs keep their secret) and user info never show."""
    assert mask_url("https://hooks.slack.com/services/T0/B0/abc") == "https://hooks.slack.com/•••"
    assert mask_url("https://user:pw@example.com:8443/x?token=1") == "https://example.com:8443/•••"
    assert mask_url("https://example.com") == "https://example.com"


def test_secret_named_fields_and_urls_are_masked_in_nested_data() -> None:
    """Envelopes and route steps are shown with secret-named fields and URLs hidden."""
    data = {"input": {"api_key": "sk_live_1", "url": "https://h.example/p/s3cret", "n": 1}}
    assert mask_secrets(data) == {
        "input": {"api_key": "•••", "url": "https://h.example/•••", "n": 1}
    }


def test_a_session_lives_until_it_expires_or_is_revoked() -> None:
    """get() finds a live session, nothing once its lifetime passed or it was revoked."""
    store = SessionStore(fakeredis.FakeRedis(), "ns")
    short = store.create("key1", None, lifetime=timedelta(milliseconds=50))
    kept = store.create("key2", "org2")
    found = store.get(kept)
    assert found is not None and (found.key_id, found.org_id) == ("key2", "org2")
    assert store.get(short) is not None
    time.sleep(0.1)
    assert store.get(short) is None
    store.revoke(kept)
    assert store.get(kept) is None and store.get("") is None


def test_console_routes_stay_out_of_the_openapi_document(client: TestClient) -> None:
    """/console pages are HTML for people, not part of the API contract."""
    assert "/console" not in client.get("/openapi.json").text


def test_sign_in_needs_the_forms_own_token(client: TestClient, rt: Runtime) -> None:
    """A sign-in post without the double-submit token is refused (login CSRF)."""
    _, key = issue_key(rt, None)
    answer = client.post("/console/sign-in", data={"api_key": key}, follow_redirects=False)
    assert answer.status_code == 403 and COOKIE not in answer.cookies


def test_a_json_body_on_a_console_form_is_refused(client: TestClient) -> None:
    """Console forms take url-encoded bodies only: JSON gets 415 naming the header."""
    answer = client.post("/console/sign-in", json={"api_key": "x"})
    assert answer.status_code == 415
    assert "x-www-form-urlencoded" in answer.json()["error"]["message"]


def test_revoking_the_api_key_ends_its_console_sessions(client: TestClient, rt: Runtime) -> None:
    """A session stops working the moment its key is revoked."""
    org = new_org(rt)
    key_id, key = issue_key(rt, org)
    assert sign_in(client, key) == 303
    assert client.get("/console/connections").status_code == 200
    with rt.sessions.begin() as session:
        ApiKeyRepository(session).revoke(key_id)
    answer = client.get("/console/connections", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/console/sign-in"


def test_an_admin_session_chooses_the_org_of_an_org_page(client: TestClient, rt: Runtime) -> None:
    """Admin sessions are offered the organizations; org pages then act for the one chosen."""
    org = new_org(rt)
    _, key = issue_key(rt, None)
    assert sign_in(client, key) == 303
    picker = client.get("/console/webhooks")
    assert "Choose an organization" in picker.text and f"?org_id={org}" in picker.text
    assert client.get(f"/console/webhooks?org_id={org}").status_code == 200


def test_a_post_without_the_sessions_csrf_token_is_refused(client: TestClient, rt: Runtime) -> None:
    """Every state-changing form needs the session's token: 403 without it."""
    _, key = issue_key(rt, new_org(rt))
    assert sign_in(client, key) == 303
    answer = client.post("/console/dead-letters/purge", data={"id": "x", "confirm": "yes"})
    assert answer.status_code == 403 and "security token" in answer.text


def test_the_session_cookie_is_secure_over_tls(rt: Runtime) -> None:
    """Served over https the cookie is Secure, besides HttpOnly and SameSite=Strict."""
    _, key = issue_key(rt, None)
    with TestClient(create_app(rt), base_url="https://testserver") as tls:
        form = tls.get("/console/sign-in").text
        token = re.search(r'name="csrf" value="([^"]+)"', form)
        assert token is not None
        answer = tls.post(
            "/console/sign-in",
            data={"api_key": key, "csrf": token.group(1)},
            follow_redirects=False,
        )
    cookie = next(v for k, v in answer.headers.multi_items() if v.startswith(f"{COOKIE}="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
