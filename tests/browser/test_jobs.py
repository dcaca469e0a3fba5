"""The console's Jobs page in headless Chromium against a live API on Redis and PostgreSQL:
look-up and timeline, cancelling a waiting job, tenant isolation of job URLs."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

from tests.browser.conftest import Seeded, shot, sign_in
from tests.browser.test_console import audited, nav
from workers.inprocess import run_until_idle

NOOP = {"kind": "action", "provider": "hubspot", "payload": {"action": "noop"}}


def enqueue(console: Seeded, org: str, **extra: Any) -> str:
    return console.rt.enqueuer.enqueue({**NOOP, "org_id": org, **extra}).job_id


def drain(console: Seeded) -> None:
    run_until_idle(console.rt.worker_broker, console.rt.lanes, threads=2, timeout_s=30)


def steps(page: Any) -> list[str]:
    """The timeline's step names, in order."""
    return [t.strip() for t in page.locator("tbody th[scope=row]").all_inner_texts()]


def test_a_job_is_found_by_id_and_shows_its_timeline(context: Any, console: Seeded) -> None:
    """Org A finds a job that ran by its id: enqueued, started, succeeded."""
    job_id = enqueue(console, console.org_a, correlation_id="order-77")
    drain(console)
    page = sign_in(context, console, console.key_a)
    nav(page, "Jobs")
    page.get_by_label("Job id").fill(job_id)
    page.get_by_role("button", name="Find").click()
    assert page.title() == f"Job {job_id} · Switchyard console"
    assert steps(page) == ["Enqueued", "Started", "Succeeded"]
    assert page.get_by_role("button", name="Cancel job").count() == 0
    shot(page, "job")


def test_a_waiting_job_is_cancelled_and_never_runs(context: Any, console: Seeded) -> None:
    """A job for later is listed as waiting, cancelled from its page, and never starts."""
    due = datetime.now(UTC) + timedelta(seconds=10)  # still waiting on a loaded CI host
    job_id = enqueue(console, console.org_a, not_before=due.isoformat())
    page = sign_in(context, console, console.key_a)
    nav(page, "Jobs")
    shot(page, "jobs")
    page.get_by_label("State").select_option("waiting")
    page.get_by_role("button", name="Filter", exact=True).click()
    assert page.locator("tbody tr").count() == 1
    page.get_by_role("link", name=job_id[:12]).click()
    assert "not_before until" in page.locator("tbody").inner_text()
    page.get_by_role("button", name="Cancel job").click()
    assert page.get_by_role("status").inner_text().startswith("Cancel done")
    assert page.locator("dd .status").inner_text() == "cancelled"
    assert any(e.subject_id == job_id for e in audited(console, "job.cancelled"))
    shot(page, "job-cancelled")
    time.sleep(max(0.0, (due - datetime.now(UTC)).total_seconds()) + 0.5)
    drain(console)
    state = console.rt.job_states.get(job_id) or {}
    assert state["state"] == "cancelled" and "started_at" not in state


def test_cancelling_a_finished_job_shows_the_409_message(context: Any, console: Seeded) -> None:
    """A job that has ended offers no cancel; forcing the form answers 409 with the reason."""
    job_id = enqueue(console, console.org_a)
    drain(console)
    page = sign_in(context, console, console.key_a)
    page.goto(f"{console.url}/console/jobs/{job_id}")
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    answer = page.request.post(f"{console.url}/console/jobs/{job_id}/cancel", form={"csrf": token})
    assert answer.status == 409 and "already ended: succeeded" in answer.text()


def test_an_org_session_cannot_open_another_orgs_job(context: Any, console: Seeded) -> None:
    """Org B's session gets 404 for org A's job (as for no job); an admin opens it."""
    job_id = enqueue(console, console.org_a)
    drain(console)
    page = sign_in(context, console, console.key_b)
    answer = page.goto(f"{console.url}/console/jobs/{job_id}")
    assert answer.status == 404 and page.title() == "Error 404 · Switchyard console"
    page.goto(f"{console.url}/console/jobs")
    assert job_id[:12] not in page.content()
    admin = sign_in(context, console, console.admin)
    assert admin.goto(f"{console.url}/console/jobs/{job_id}").status == 200


def test_the_overview_shows_recent_throughput_and_failure_rate(
    context: Any, console: Seeded
) -> None:
    """After org A's jobs ran, its Overview row has jobs ended per minute and 0 % failed."""
    enqueue(console, console.org_a)
    drain(console)
    page = sign_in(context, console, console.key_a)
    orgs = page.get_by_role("region", name="Organizations")
    cells = orgs.get_by_role("row").filter(has_text="acme").get_by_role("cell").all_inner_texts()
    assert float(cells[0]) > 0 and cells[1] == "0.0 %"
