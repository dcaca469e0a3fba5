"""``switchyard demo``: the whole pipeline on the embedded default, summarised."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from switchyard.cli.common import console, print_json, print_table
from switchyard.demo import run_demo
from switchyard.logs import configure_logging

OUTCOMES = ("succeeded", "retried", "deferred", "dead_lettered")


def demo(
    json_output: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    jobs_per_org: Annotated[
        int, typer.Option(min=1, max=10_000, help="Jobs each demo organization submits.")
    ] = 100,
    seed: Annotated[int, typer.Option(help="Seed for the job mix.")] = 7,
    verbose: Annotated[bool, typer.Option("--verbose", help="Show every job's log line.")] = False,
) -> None:
    """Run jobs for several orgs in-process (fakeredis, SQLite) and report what happened."""
    configure_logging("INFO" if verbose else "ERROR")
    with console.status("running the embedded pipeline...", spinner="dots"):
        report = run_demo(jobs_per_org=jobs_per_org, seed=seed).as_dict()
    if json_output:
        print_json(report)
        return
    jobs = report["jobs"]
    print_table("Jobs", ["stage", "count"], [(k, v) for k, v in jobs.items()])
    print_table(
        "Outcomes per organization",
        ["org", *OUTCOMES],
        [(org, *(c.get(o, 0) for o in OUTCOMES)) for org, c in report["per_org"].items()],
    )
    print_table(
        "Refused at enqueue",
        ["field", "why"],
        [(r["field"], r["message"]) for r in report["rejections"]],
    )
    print_table("HTTP API", ["call", "status"], [(c["call"], c["status"]) for c in report["http"]])
    print_table(
        "Dead-letter queue",
        ["org", "kind", "provider", "error class", "reason"],
        [
            (d["org"], d["kind"], d["provider"], d["error_class"], d["error"])
            for d in report["dead_letters"]
        ],
    )
    for name, section in report["capabilities"].items():
        print_table(name, ["what", "result"], [(k, _cell(v)) for k, v in section.items()])
    console.print(f"done in {report['elapsed_seconds']} s")


def _cell(value: object) -> str:
    """Nested results as compact JSON, one line per table cell."""
    if isinstance(value, dict | list):
        return json.dumps(value, default=str, separators=(", ", ": "))
    return str(value)
