"""The workers' outcome log read by its structured fields (``job_event``, ``job_id``,
``error_class`` on each record), never by parsing the message text."""

from __future__ import annotations

import logging
from collections.abc import Iterable


def job_records(records: Iterable[logging.LogRecord]) -> list[logging.LogRecord]:
    """The outcome records (started, succeeded, retried, deferred, dead_lettered...)."""
    return [r for r in records if r.name == "switchyard.jobs" and hasattr(r, "job_event")]


def job_events(records: Iterable[logging.LogRecord]) -> list[str]:
    """Each outcome record's event, in order."""
    return [r.job_event for r in job_records(records)]
