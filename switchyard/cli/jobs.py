"""``switchyard enqueue`` enqueues one job from the shell; ``switchyard jobs show|list|cancel``
follows jobs (the logic is :mod:`switchyard.services.jobs`, shared with the API)."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from contract.envelope import MAX_PAYLOAD_DEPTH, InvalidJobError
from queueing.job_state import STATES
from storage.errors import NotFoundError
from storage.repositories.organizations import OrganizationRepository
from switchyard.cli.common import fail, print_json, print_table, refusals, runtime
from switchyard.runtime import Runtime
from switchyard.services import jobs as service
from switchyard.services.job_views import as_dict

app = typer.Typer(help="Follow jobs: show one, list an org's recent jobs, cancel one.")

EMBEDDED_ENQUEUE = (
    "SWITCHYARD_REDIS_URL is not set: the embedded broker lives inside one process, so a job "
    "enqueued from this shell would be lost when it exits. Point SWITCHYARD_REDIS_URL at Redis "
    "(or try `switchyard demo`)."
)


def enqueue(
    org: Annotated[str, typer.Option(help="Organization name or id.")],
    provider: Annotated[str, typer.Option(help="Provider name from the catalog.")],
    kind: Annotated[str, typer.Option(help="refresh | sync | action | deliver | inbound")],
    payload: Annotated[str, typer.Option(help="The payload as a JSON object.")] = "{}",
    connection: Annotated[str, typer.Option(help="Connection name.")] = "default",
    idempotency_key: Annotated[str | None, typer.Option(help="Same key, same job.")] = None,
    priority: Annotated[int, typer.Option(help="0 (lowest) to 9.")] = 5,
    not_before: Annotated[str | None, typer.Option(help="ISO 8601 time with offset.")] = None,
    correlation_id: Annotated[
        str | None, typer.Option(help="Your id for tracing this job through the logs.")
    ] = None,
) -> None:
    """Validate and enqueue one job; prints its id (the first job's id for a repeated key)."""
    try:
        payload_data: Any = json.loads(payload)
    except json.JSONDecodeError as exc:
        fail(f"--payload: not valid JSON: {exc}")
    except RecursionError:
        fail(f"--payload: nested deeper than {MAX_PAYLOAD_DEPTH} levels")
    for name, text in (("--org", org), ("--provider", provider), ("--kind", kind)):
        if not _is_utf8(text):
            fail(f"{name}: not valid UTF-8")
    with runtime() as rt:
        if rt.settings.embedded:
            fail(EMBEDDED_ENQUEUE)
        with rt.sessions() as session:
            try:
                org_id = OrganizationRepository(session).resolve(org).id
            except NotFoundError as exc:
                fail(f"--org: {exc}")
        job: dict[str, Any] = {
            "kind": kind,
            "org_id": org_id,
            "provider": provider,
            "connection": connection,
            "payload": payload_data,
            "priority": priority,
        }
        for name, value in (
            ("idempotency_key", idempotency_key),
            ("not_before", not_before),
            ("correlation_id", correlation_id),
        ):
            if value is not None:
                job[name] = value
        try:
            result = rt.enqueuer.enqueue(job)
        except InvalidJobError as exc:
            fail("invalid job: " + "; ".join(f"{e.field}: {e.message}" for e in exc.errors))
    print_json({"id": result.job_id, "duplicate": result.duplicate})


def _is_utf8(text: str) -> bool:
    """False for arguments the shell passed as bytes that are not UTF-8 (Python keeps them
    as lone surrogates, which no database or Redis key can hold)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@app.command("show")
def show(job_id: Annotated[str, typer.Argument(help="The job id (from enqueue).")]) -> None:
    """A job's state, attempts, times and (for actions) result summary, as JSON."""
    with runtime() as rt:
        view = service.get_job(rt.job_states, job_id, None)
    print_json(as_dict(view))


@app.command("list")
def list_jobs(
    org: Annotated[str, typer.Option(help="Organization name or id.")],
    state: Annotated[str | None, typer.Option(help=f"One of {', '.join(STATES)}.")] = None,
    provider: Annotated[str | None, typer.Option(help="Only this provider's jobs.")] = None,
    kind: Annotated[str | None, typer.Option(help="Only jobs of this kind.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=service.MAX_LIMIT, help="Most jobs shown.")] = 50,
) -> None:
    """The org's recent jobs, newest first."""
    where = service.JobFilter(state=state, provider=provider, kind=kind)
    with refusals(options=True):  # before the org is looked up: a typo answers first
        service.check_filter(where)
    with runtime() as rt:
        page = service.list_jobs(rt.job_states, _org_id(rt, org), where, limit=limit)
    rows = [
        (v.id, v.state, v.kind, v.provider, v.action or v.model, v.attempts, v.enqueued_at)
        for v in page.jobs
    ]
    columns = ("id", "state", "kind", "provider", "action/model", "attempts", "enqueued")
    print_table(f"jobs of {org}", columns, rows)


@app.command("cancel")
def cancel(job_id: Annotated[str, typer.Argument(help="The job id.")]) -> None:
    """Cancel a job: queued or waiting, it never runs; running, it is not retried."""
    with runtime() as rt:
        view = service.cancel_job(rt.job_states, rt.lanes, job_id, None)
    print_json(as_dict(view))


def _org_id(rt: Runtime, org: str) -> str:
    with rt.sessions() as session:
        try:
            return OrganizationRepository(session).resolve(org).id
        except NotFoundError as exc:
            fail(f"--org: {exc}")
