"""The embedded demo: the whole pipeline in one process, with nothing installed but the package.

It builds a fresh embedded runtime (fakeredis broker, SQLite in a temporary directory),
creates organizations and an API key, submits a mix of jobs through the Python and HTTP
producers — valid ones, repeated idempotency keys, bad ones that must be refused, and real
HubSpot calls to the built-in sandbox (which rate-limits and fails some of them) — runs
worker threads until every queue is drained, and reports what happened from the system's
own records (dead-letter table, job outcomes observed by a middleware).
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dramatiq
import httpx
from dramatiq.broker import MessageProxy
from dramatiq.middleware import Middleware

from contract.envelope import InvalidJobError
from contract.metrics import JOBS_ENQUEUED
from storage.repositories.api_keys import ApiKeyRepository
from storage.repositories.connections import ConnectionRepository
from storage.repositories.credentials import CredentialRepository
from storage.repositories.dead_jobs import AdminDeadJobRepository
from storage.repositories.organizations import OrganizationRepository
from switchyard.api.app import create_app
from switchyard.demo.sections import SECTIONS
from switchyard.demo.webhook_delivery import DEMO_WEBHOOK_SETTINGS
from switchyard.runtime import Runtime, build_runtime
from switchyard.settings import load_settings
from workers.inprocess import run_until_idle
from workers.job_fields import job_fields
from workers.middleware.outcomes import OutcomeLog, outcome_of

ORGS = ("acme", "globex", "initech")
PROVIDER_CALLS_PER_ORG = 10
PROVIDERS = ("hubspot", "slack", "shopify", "stripe", "google_sheets")


@dataclass
class DemoReport:
    """What the demo saw; rendered as a table or JSON by the CLI."""

    submitted: int = 0
    accepted: int = 0
    internal: int = 0
    duplicates: int = 0
    rejected: list[dict[str, str]] = field(default_factory=list)
    outcomes: Counter[tuple[str, str]] = field(default_factory=Counter)
    http: list[dict[str, Any]] = field(default_factory=list)
    dead_letters: list[dict[str, Any]] = field(default_factory=list)
    capabilities: dict[str, dict[str, Any]] = field(default_factory=dict)
    elapsed_seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        per_org: dict[str, dict[str, int]] = {}
        for (org, outcome), count in sorted(self.outcomes.items()):
            per_org.setdefault(org, {})[outcome] = count
        totals = Counter[str]()
        for (_, outcome), count in self.outcomes.items():
            totals[outcome] += count
        return {
            "jobs": {
                "submitted": self.submitted,
                "accepted": self.accepted,
                "internal": self.internal,
                "duplicates": self.duplicates,
                "rejected": len(self.rejected),
                **{
                    k: totals.get(k, 0)
                    for k in ("succeeded", "retried", "deferred", "dead_lettered")
                },
            },
            "per_org": per_org,
            "rejections": self.rejected,
            "http": self.http,
            "dead_letters": self.dead_letters,
            "capabilities": self.capabilities,
            "elapsed_seconds": round(self.elapsed_seconds, 3),
        }


class _OutcomeRecorder(Middleware):
    """Counts attempt outcomes per org name (the demo's own view; metrics never use orgs)."""

    def __init__(self, report: DemoReport, org_names: dict[str, str]) -> None:
        self.report = report
        self.org_names = org_names
        self.lock = threading.Lock()

    def after_process_message(
        self,
        broker: dramatiq.Broker,
        message: MessageProxy,
        *,
        result: Any = None,
        exception: BaseException | None = None,
    ) -> None:
        self._count(message, exception)

    def after_skip_message(self, broker: dramatiq.Broker, message: MessageProxy) -> None:
        self._count(message, None)

    def _count(self, message: MessageProxy, exception: BaseException | None) -> None:
        org = self.org_names.get(job_fields(message).org, "?")
        with self.lock:
            self.report.outcomes[(org, outcome_of(message, exception))] += 1


def run_demo(jobs_per_org: int = 100, seed: int = 7, threads: int = 8) -> DemoReport:
    """Run the demo in a temporary data dir and return its report."""
    with demo_runtime(jobs_per_org, seed, threads) as (_runtime, report):
        return report


@contextmanager
def demo_runtime(
    jobs_per_org: int = 100, seed: int = 7, threads: int = 8
) -> Iterator[tuple[Runtime, DemoReport]]:
    """Run the demo and keep its runtime open until the block ends (``demo --serve`` browses
    the data in the console meanwhile)."""
    with tempfile.TemporaryDirectory(prefix="switchyard-demo-") as tmp:
        settings = load_settings(
            redis_url=None,
            database_url=None,
            data_dir=Path(tmp),
            workers={"min_backoff_ms": 50, "max_backoff_ms": 500, "max_retries": 3},
            webhooks=DEMO_WEBHOOK_SETTINGS,
        )
        runtime = build_runtime(settings)
        try:
            yield runtime, _run(runtime, jobs_per_org, random.Random(seed), threads)
        finally:
            runtime.close()


def _run(runtime: Runtime, jobs_per_org: int, rng: random.Random, threads: int) -> DemoReport:
    started = time.perf_counter()
    report = DemoReport()
    org_ids, key = _setup_orgs(runtime)
    broker = runtime.worker_broker
    # Before OutcomeLog: its after-hook then runs once Backoff has decided the outcome.
    recorder = _OutcomeRecorder(report, {v: k for k, v in org_ids.items()})
    broker.add_middleware(recorder, before=OutcomeLog)
    _submit_python_jobs(runtime, org_ids, jobs_per_org, rng, report)
    _submit_provider_calls(runtime, org_ids, report)
    _submit_http_jobs(runtime, org_ids, key, report)
    enqueued_before = _enqueued_total()
    started_sections = [(name, start(runtime, org_ids)) for name, start, _ in SECTIONS]
    run_until_idle(broker, runtime.lanes, threads=threads, timeout_s=120)
    # Jobs enqueued other than by the submissions above: event fan-out, route steps and the
    # capability sections.
    report.internal = int(_enqueued_total() - enqueued_before)
    for (name, state), (_, _, finish) in zip(started_sections, SECTIONS, strict=True):
        report.capabilities[name] = finish(runtime, org_ids, state)
    report.dead_letters = _dead_letters(runtime, {v: k for k, v in org_ids.items()})
    report.elapsed_seconds = time.perf_counter() - started
    return report


def _enqueued_total() -> float:
    """Jobs accepted by every enqueuer of this process so far (the demo runs alone in it)."""
    return sum(
        sample.value
        for metric in JOBS_ENQUEUED.collect()
        for sample in metric.samples
        if sample.name.endswith("_total") and sample.labels.get("result") == "accepted"
    )


def _setup_orgs(runtime: Runtime) -> tuple[dict[str, str], str]:
    with runtime.sessions.begin() as session:
        orgs = OrganizationRepository(session)
        ids = {name: orgs.create(name).id for name in ORGS}
        plaintext = ApiKeyRepository(session).create(ids["acme"], "demo").key.reveal()
    return ids, plaintext


def _submit(runtime: Runtime, job: dict[str, Any], report: DemoReport) -> None:
    report.submitted += 1
    try:
        result = runtime.enqueuer.enqueue(job)
    except InvalidJobError as exc:
        report.rejected.extend({"field": e.field, "message": e.message} for e in exc.errors)
        return
    if result.duplicate:
        report.duplicates += 1
    else:
        report.accepted += 1


def _submit_python_jobs(
    runtime: Runtime, org_ids: dict[str, str], per_org: int, rng: random.Random, report: DemoReport
) -> None:
    for index in range(per_org):
        for name, org_id in org_ids.items():
            job: dict[str, Any] = {
                "kind": "action",
                "org_id": org_id,
                "provider": rng.choice(PROVIDERS),
                "payload": {"action": "noop", "input": {"duration_ms": rng.randint(0, 5)}},
            }
            if index % 10 == 0:  # upstream apps retry their own calls: same key, same job
                job["idempotency_key"] = f"{name}-order-{index // 20}"
            _submit(runtime, job, report)
    acme = org_ids["acme"]
    for bad in (
        {"kind": "action", "org_id": acme, "provider": "myspace", "payload": {"action": "noop"}},
        {"kind": "teleport", "org_id": acme, "provider": "slack", "payload": {}},
        {"kind": "action", "org_id": acme, "provider": "slack", "payload": {"action": "teleport"}},
        {
            "kind": "action",
            "org_id": acme,
            "provider": "slack",
            "payload": {"action": "noop", "input": {"blob": "x" * 70_000}},
        },
        {
            "kind": "action",
            "org_id": acme,
            "provider": "slack",
            "payload": {"action": "noop", "input": {"access_token": "xoxb-1"}},
        },
        {
            "kind": "action",
            "org_id": "no-such-org",
            "provider": "slack",
            "payload": {"action": "noop"},
        },
    ):
        _submit(runtime, bad, report)
    for org_id in org_ids.values():  # a provider the org never connected: to the DLQ
        _submit(
            runtime,
            {
                "kind": "action",
                "org_id": org_id,
                "provider": "mailchimp",
                "payload": {"action": "proxy", "input": {"path": "/lists"}},
            },
            report,
        )


def _submit_provider_calls(runtime: Runtime, org_ids: dict[str, str], report: DemoReport) -> None:
    """Real calls to the sandbox's HubSpot with each org's own encrypted token. The sandbox
    enforces HubSpot's headers at 5 requests/s and fails the first 3 calls with 503."""
    sandbox = runtime.sandbox
    assert sandbox is not None
    sandbox.set_rate_limit("hubspot", 5, 1.0)
    sandbox.inject("hubspot", server_errors=3)
    job_input = {"path": "/crm/v3/objects/contacts", "query": {"limit": "10"}}
    for index, org_id in enumerate(org_ids.values()):
        token = sandbox.issue_token("hubspot")
        with runtime.sessions.begin() as session:
            connection = ConnectionRepository(session, org_id).create(
                "hubspot", account_identifier={"portal_id": str(62515 + index)}
            )
            CredentialRepository(session, org_id, runtime.keyring).store(
                connection.id,
                auth_mode="oauth2_code",
                access_token=token.access_token,
                refresh_token=token.refresh_token,
            )
        for _ in range(PROVIDER_CALLS_PER_ORG):
            job = {"kind": "action", "org_id": org_id, "provider": "hubspot"}
            _submit(runtime, {**job, "payload": {"action": "proxy", "input": job_input}}, report)


def _submit_http_jobs(
    runtime: Runtime, org_ids: dict[str, str], key: str, report: DemoReport
) -> None:
    asyncio.run(_post_http_jobs(runtime, org_ids, key, report))


async def _post_http_jobs(
    runtime: Runtime, org_ids: dict[str, str], key: str, report: DemoReport
) -> None:
    transport = httpx.ASGITransport(app=create_app(runtime))
    job = {"kind": "action", "provider": "slack", "payload": {"action": "noop"}}
    calls = (
        ("own org", {"Authorization": f"Bearer {key}"}, job),
        ("another org", {"Authorization": f"Bearer {key}"}, {**job, "org_id": org_ids["globex"]}),
        ("bad key", {"Authorization": "Bearer sy_wrong"}, job),
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://switchyard") as client:
        for label, headers, body in calls:
            response = await client.post("/v1/jobs", json=body, headers=headers)
            _count_http(report, label, response.status_code)


def _count_http(report: DemoReport, label: str, status: int) -> None:
    report.http.append({"call": label, "status": status})
    if status == 201:
        report.submitted += 1
        report.accepted += 1


def _dead_letters(runtime: Runtime, names: dict[str, str]) -> list[dict[str, Any]]:
    with runtime.sessions() as session:
        rows = AdminDeadJobRepository(session).list(limit=100)
        return [
            {
                "org": names.get(row.org_id, row.org_id),
                "kind": row.kind,
                "provider": row.provider,
                "error_class": row.error_class,
                "error": row.error_message,
            }
            for row in rows
        ]
