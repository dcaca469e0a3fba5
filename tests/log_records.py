"""The workers' outcome log read by its structured fields (``job_event``, ``job_id``,
``error_class`` on each record), never by parsing the message text."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def job_records(records: Iterable[logging.LogRecord]) -> list[logging.LogRecord]:
    """The outcome records (started, succeeded, retried, deferred, dead_lettered...)."""
    return [r for r in records if r.name == "switchyard.jobs" and hasattr(r, "job_event")]


def job_events(records: Iterable[logging.LogRecord]) -> list[str]:
    """Each outcome record's event, in order."""
    return [r.job_event for r in job_records(records)]


def json_records(log: Path) -> list[dict[str, Any]]:
    """The records of a process started with ``SWITCHYARD_LOG_FORMAT=json`` (one object a
    line; anything else the process printed, or a line still being written, is skipped)."""
    records = []
    for line in log.read_text(errors="replace").splitlines() if log.exists() else []:
        try:
            records.append(json.loads(line))
        except json.JSONDecodeError:  # a line being written, or not a record
            continue
    return [r for r in records if isinstance(r, dict)]


def job_logged(log: Path, event: str, job_id: str) -> bool:
    """Whether the process logged outcome ``event`` for the job, by the records' fields."""
    return any(r.get("job_event") == event and r.get("job_id") == job_id for r in json_records(log))
