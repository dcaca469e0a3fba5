"""Job metrics shared by producers and workers. Labels stay low-cardinality: never org ids."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

JOB_LABELS = ("queue", "kind", "provider")

JOBS_ENQUEUED = Counter(
    "switchyard_jobs_enqueued", "Jobs accepted at enqueue.", [*JOB_LABELS, "result"]
)
JOBS_REJECTED = Counter(
    "switchyard_jobs_rejected", "Jobs refused at enqueue, by the first offending field.", ["field"]
)
JOBS_STARTED = Counter("switchyard_jobs_started", "Job attempts started.", JOB_LABELS)
JOBS_FINISHED = Counter(
    "switchyard_jobs_finished",
    "Job attempts finished, by outcome (succeeded, retried, dead_lettered).",
    [*JOB_LABELS, "outcome"],
)
JOB_DURATION = Histogram(
    "switchyard_job_duration_seconds",
    "Time spent running one job attempt.",
    ["queue", "kind"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)
