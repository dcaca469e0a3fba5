"""The console's Jobs page and the Overview's activity figures on the embedded default
(fakeredis, SQLite); the browser suite covers the same pages end to end."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from queueing.job_state import now_ms
from storage.repositories.audit import AdminAuditRepository
from switchyard.console.pages.jobs import timeline
from switchyard.runtime import Runtime
from switchyard.services.job_views import job_view
from tests.conftest import new_org
from tests.unit.switchyard.console.test_console import issue_key, sign_in


def later_job(rt: Runtime, org: str) -> str:
    """A noop job enqueued for an hour from now: it waits (``not_before``)."""
    at = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    job = {"kind": "action", "provider": "hubspot", "payload": {"action": "noop"}}
    return rt.enqueuer.enqueue({**job, "org_id": org, "not_before": at}).job_id


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


def test_a_job_is_found_by_id_and_shows_why_it_waits(client: TestClient, rt: Runtime) -> None:
    """The look-up form redirects to the job; its timeline says enqueued, waiting not_before."""
    org = new_org(rt)
    job_id = later_job(rt, org)
    assert sign_in(client, issue_key(rt, org)[1]) == 303
    page = client.get("/console/jobs", params={"id": job_id})
    assert page.url.path == f"/console/jobs/{job_id}"
    assert "Enqueued" in page.text and "not_before until" in page.text
    assert f"/console/jobs/{job_id}" in client.get("/console/jobs?state=waiting").text
    assert job_id not in client.get("/console/jobs?state=succeeded").text


def test_another_orgs_job_is_404_to_an_org_session(client: TestClient, rt: Runtime) -> None:
    """Opening or cancelling another org's job answers 404, like a job that never existed."""
    job_id = later_job(rt, new_org(rt))
    assert sign_in(client, issue_key(rt, new_org(rt))[1]) == 303
    assert client.get(f"/console/jobs/{job_id}").status_code == 404
    token = csrf_of(client.get("/console/jobs").text)
    assert client.post(f"/console/jobs/{job_id}/cancel", data={"csrf": token}).status_code == 404
    assert rt.job_states.get(job_id)["state"] == "waiting"  # type: ignore[index]


def test_cancel_needs_the_token_ends_the_job_and_is_audited(
    client: TestClient, rt: Runtime
) -> None:
    """Without the token: 403, nothing done; with it: cancelled and audited; again: 409."""
    org = new_org(rt)
    job_id = later_job(rt, org)
    assert sign_in(client, issue_key(rt, org)[1]) == 303
    assert client.post(f"/console/jobs/{job_id}/cancel", data={}).status_code == 403
    token = csrf_of(client.get(f"/console/jobs/{job_id}").text)
    done = client.post(f"/console/jobs/{job_id}/cancel", data={"csrf": token})
    assert done.status_code == 200 and "status-cancelled" in done.text
    with rt.sessions() as session:
        entries = list(AdminAuditRepository(session).list(action="job.cancelled"))
    assert [e.subject_id for e in entries] == [job_id]
    again = client.post(f"/console/jobs/{job_id}/cancel", data={"csrf": token})
    assert again.status_code == 409 and "already ended: cancelled" in again.text


def test_a_bad_state_filter_or_cursor_is_refused_naming_the_field(
    client: TestClient, rt: Runtime
) -> None:
    """422 names ``state`` for an unknown state; a made-up cursor is refused too."""
    assert sign_in(client, issue_key(rt, new_org(rt))[1]) == 303
    bad = client.get("/console/jobs?state=exploded")
    assert bad.status_code == 422 and "state:" in bad.text
    assert client.get("/console/jobs?cursor=nope").status_code == 422


def test_the_timeline_of_a_dead_job_links_its_dead_letter() -> None:
    """Started with its attempts, then Dead with the reason linking the dead letter."""
    ms = now_ms()
    raw = {"org": "o", "kind": "action", "queue": "action", "state": "dead", "attempts": "5"}
    raw |= {"enqueued_at": str(ms - 9000), "started_at": str(ms - 5000)}
    raw |= {"finished_at": str(ms), "dead_reason": "retries_exhausted", "dead_job_id": "d1"}
    steps = timeline(job_view("j1", raw, ms))
    assert [s.label for s in steps] == ["Enqueued", "Started", "Dead"]
    assert steps[-1].link == "/console/dead-letters/d1" and steps[-1].detail == "retries_exhausted"


def test_the_timeline_of_a_retrying_job_names_the_error_class() -> None:
    """A retrying job shows the failed attempt's error class and when the next one runs."""
    ms = now_ms()
    raw = {"org": "o", "kind": "action", "queue": "action", "state": "retrying"}
    raw |= {"retry_attempt": "2", "retry_next_at": str(ms + 4000), "error_class": "transient"}
    steps = timeline(job_view("j1", raw, ms))
    assert [(s.label, s.detail) for s in steps[1:]] == [
        ("Attempt 2 failed", "transient"),
        ("Retry scheduled", "next attempt"),
    ]


def test_an_admin_finds_any_job_and_picks_the_org_to_list(client: TestClient, rt: Runtime) -> None:
    """Without an org an admin gets the look-up and the orgs; with one, that org's list."""
    org = new_org(rt)
    job_id = later_job(rt, org)
    assert sign_in(client, issue_key(rt, None)[1]) == 303
    start = client.get("/console/jobs")
    assert "Job id" in start.text and f"/console/jobs?org_id={org}" in start.text
    assert client.get(f"/console/jobs/{job_id}").status_code == 200
    assert f"/console/jobs/{job_id}" in client.get(f"/console/jobs?org_id={org}").text


def test_the_list_pages_on_the_server_by_cursor(client: TestClient, rt: Runtime) -> None:
    """Fifty jobs a page; "Older" carries the cursor to the rest, none shown twice."""
    org = new_org(rt)
    made = {later_job(rt, org) for _ in range(53)}
    assert sign_in(client, issue_key(rt, org)[1]) == 303
    first = client.get("/console/jobs").text
    older = re.search(r'rel="next" href="([^"]+)"', first)
    assert older is not None
    second = client.get(older.group(1).replace("&amp;", "&")).text
    shown = [re.findall(r'href="/console/jobs/(\w+)"', page) for page in (first, second)]
    assert (len(shown[0]), len(shown[1])) == (50, 3) and set(shown[0] + shown[1]) == made
    assert 'rel="next"' not in second
