"""``switchyard demo``: the whole pipeline on the embedded default, summarised."""

from __future__ import annotations

import json
from contextlib import ExitStack
from typing import Annotated, Any

import typer

from switchyard.cli.common import console, print_json, print_table
from switchyard.cli.serve import serve_console
from switchyard.demo.runner import demo_runtime
from switchyard.logs import configure_logging

OUTCOMES = ("succeeded", "retried", "deferred", "dead_lettered")
JOB_STAGES = {
    "submitted": "jobs the demo offered, through Python and POST /v1/jobs",
    "accepted": "new jobs queued",
    "duplicates": "repeated idempotency key: answered with the first job's id, nothing queued",
    "rejected": "refused at enqueue, naming the field (table below)",
    "internal": "jobs queued by the sections below, not submitted: route steps and webhook "
    "deliveries (event fan-out), sync runs, the refresh burst",
    "succeeded": "jobs that finished",
    "dead_lettered": "jobs that failed for good (dead-letter queue below)",
    "retried": "attempts that failed transiently and were retried with backoff",
    "deferred": "attempts put back until the provider's rate limit has room (no retry used)",
}


def demo(
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    jobs_per_org: Annotated[
        int, typer.Option(min=1, max=10_000, help="Jobs each demo organization submits.")
    ] = 100,
    seed: Annotated[int, typer.Option(help="Seed for the job mix.")] = 7,
    verbose: Annotated[bool, typer.Option("--verbose", help="Show every job's log line.")] = False,
    serve: Annotated[
        bool,
        typer.Option("--serve", help="Afterwards, serve the API and /console on the demo's data."),
    ] = False,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port for --serve.")] = 8000,
) -> None:
    """Run jobs for several orgs in-process (fakeredis, SQLite) and report what happened."""
    configure_logging("INFO" if verbose else "ERROR")
    with ExitStack() as stack:
        with console.status("running the embedded pipeline...", spinner="dots"):
            runtime, done = stack.enter_context(demo_runtime(jobs_per_org=jobs_per_org, seed=seed))
        report = done.as_dict()
        if json_output:
            print_json(report)
        else:
            _print_report(report)
        if serve:
            serve_console(runtime, port)


def _print_report(report: dict[str, Any]) -> None:
    jobs = report["jobs"]
    print_table(
        "Jobs",
        ["stage", "count", "meaning"],
        [(stage, jobs[stage], meaning) for stage, meaning in JOB_STAGES.items()],
        caption=f"submitted = accepted + duplicates + rejected; succeeded + dead_lettered = "
        f"accepted + internal ({jobs['succeeded'] + jobs['dead_lettered']} = "
        f"{jobs['accepted'] + jobs['internal']}). retried and deferred count attempts, not jobs.",
    )
    print_table(
        "Outcomes per organization",
        ["org", *OUTCOMES],
        [(org, *(c.get(o, 0) for o in OUTCOMES)) for org, c in report["per_org"].items()],
        caption="Columns as in Jobs: succeeded/dead_lettered are jobs; retried/deferred are "
        "attempts (a job waiting for a provider's rate limit is deferred once per wake-up).",
    )
    print_table(
        "Refused at enqueue",
        ["field", "why"],
        [(r["field"], r["message"]) for r in report["rejections"]],
        caption="Bad jobs are refused when submitted, naming the field; none is accepted and lost.",
    )
    print_table(
        "HTTP API",
        ["call", "status"],
        [(c["call"], c["status"]) for c in report["http"]],
        caption="POST /v1/jobs with an org's key: its own org 201, another org 403, bad key 401.",
    )
    print_table(
        "Dead-letter queue",
        ["org", "kind", "provider", "error class", "reason"],
        [
            (d["org"], d["kind"], d["provider"], d["error_class"], d["error"])
            for d in report["dead_letters"]
        ],
        caption="Jobs that cannot succeed, kept with their reason; switchyard dlq replay "
        "re-runs them once fixed.",
    )
    for name, section in report["capabilities"].items():
        print_table(
            name,
            ["what", "result"],
            [(k, _cell(v)) for k, v in section.items()],
            caption="What this capability did, read back from the database and the sandbox.",
        )
    console.print(f"done in {report['elapsed_seconds']} s")


def _cell(value: object) -> str:
    """Nested results as compact JSON, one line per table cell."""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, separators=(", ", ": "))
    return str(value)
