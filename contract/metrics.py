"""Every Prometheus metric Switchyard's processes record, and the helpers that record them.

Labels stay low-cardinality: queue, kind, provider, outcome and a few closed vocabularies
(status class, sync action, error class). Never an org, connection, endpoint or job id — a
test (``tests/unit/observability``) rejects any label outside :data:`ALLOWED_LABELS`.

The metrics are plain prometheus-client objects in the default registry. In worker
processes the composition root switches prometheus-client to multiprocess mode before any
sample is recorded, so one ``/metrics`` per host aggregates every process (see
``switchyard/observability/exposition.py``). Gauges of shared state (queue depth, DLQ depth,
workers alive) are not here: the exporter reads them from Redis and the database, once.

Every metric has labels: prometheus-client creates the value of an unlabelled metric at
import, possibly before multiprocess mode is on, so it would never be aggregated.

Counters are exposed with a ``_total`` suffix, histograms as ``_bucket``/``_sum``/``_count``.
"""

from __future__ import annotations

from typing import Final

from prometheus_client import Counter, Gauge, Histogram

ALLOWED_LABELS: Final = frozenset(
    {
        "queue",
        "kind",
        "provider",
        "outcome",
        "result",
        "field",
        "status_class",
        "model",
        "action",
        "reason",
        "error_class",
        "status",
        "probe",
        "source",
        "method",
        "route",
    }
)
"""Every label name any Switchyard metric may carry (exporter gauges included)."""

FORBIDDEN_LABELS: Final = frozenset(
    {"org", "org_id", "connection", "connection_id", "endpoint", "endpoint_id", "job_id", "id"}
)
"""Label names that would explode cardinality; listed so the test names the mistake."""

JOB_LABELS = ("queue", "kind", "provider")

JOB_OUTCOMES: Final = ("succeeded", "retried", "deferred", "dead_lettered", "cancelled")
"""Values of ``outcome`` on :data:`JOBS_FINISHED`. ``deferred`` = put back to wait for a
rate-limit slot (at admission, or after a 429), spending no attempt — rate-limit deferrals
by provider are ``JOBS_FINISHED{outcome="deferred"}``; ``retried`` = transient failure,
backoff scheduled; ``cancelled`` = would have been retried or deferred, but its cancel was
asked while it ran."""

DURATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)
WAIT_BUCKETS = (0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 4 * 3600, 24 * 3600)
HTTP_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)

# --- jobs ----------------------------------------------------------------------------------
JOBS_ENQUEUED = Counter(
    "switchyard_jobs_enqueued", "Jobs accepted at enqueue.", [*JOB_LABELS, "result"]
)
JOBS_REJECTED = Counter(
    "switchyard_jobs_rejected", "Jobs refused at enqueue, by the first offending field.", ["field"]
)
JOBS_STARTED = Counter("switchyard_jobs_started", "Job attempts started.", JOB_LABELS)
JOBS_FINISHED = Counter(
    "switchyard_jobs_finished",
    "Job attempts finished, by outcome (succeeded, retried, deferred, dead_lettered, cancelled).",
    [*JOB_LABELS, "outcome"],
)
JOBS_RECOVERED = Counter(
    "switchyard_jobs_recovered",
    "Jobs a dead worker had fetched and not acknowledged, put back in their queue by the "
    "recovery sweep (each runs again: at-least-once).",
    ["queue"],
)
FETCHES_RECLAIMED = Counter(
    "switchyard_fetches_reclaimed",
    "Jobs a live worker's fetch moved to its ack set without the worker receiving them (a "
    "reply lost in a failover or a dropped connection), put back in their queue by that "
    "worker's next fetch (each runs again: at-least-once).",
    ["queue"],
)
RESCHEDULES_UNREPLICATED = Counter(
    "switchyard_reschedules_unreplicated",
    "Retries, deferrals and parked webhook deliveries no replica confirmed in time (durable "
    "enqueue on): written on the master, lost if it fails over before its replicas catch up.",
    ["queue"],
)
JOB_DURATION = Histogram(
    "switchyard_job_duration_seconds",
    "Time spent running one job attempt.",
    ["queue", "kind"],
    buckets=DURATION_BUCKETS,
)
JOB_QUEUE_WAIT = Histogram(
    "switchyard_job_queue_wait_seconds",
    "Time from when a job attempt became due (enqueue, or its delay's end) to its start.",
    ["queue", "kind"],
    buckets=WAIT_BUCKETS,
)

# --- provider HTTP -------------------------------------------------------------------------
PROVIDER_REQUESTS = Counter(
    "switchyard_provider_requests",
    "HTTP requests to provider APIs, by status class (2xx..5xx, or error for no response).",
    ["provider", "status_class"],
)
PROVIDER_REQUEST_DURATION = Histogram(
    "switchyard_provider_request_duration_seconds",
    "Latency of HTTP requests to provider APIs.",
    ["provider"],
    buckets=HTTP_BUCKETS,
)
PROVIDER_THROTTLED = Counter(
    "switchyard_provider_throttled_responses",
    "Provider answers that said slow down (HTTP 429 and equivalents).",
    ["provider"],
)

OUTBOUND_REFUSED = Counter(
    "switchyard_outbound_refused",
    "Requests on a tenant's behalf refused by the outbound policy, by rule (metadata, "
    "loopback, private, link_local, port, scheme, url...).",
    ["reason"],
)
GRANT_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1)
LIMITER_GRANT_TO_SEND = Histogram(
    "switchyard_limiter_grant_to_send_seconds",
    "From the limiter's grant to the request written to the wire, when its send time is "
    "stamped into the key's window log (the window guard counts from the stamp).",
    ["provider"],
    buckets=GRANT_BUCKETS,
)
LIMITER_LEARNED_LIMIT = Gauge(
    "switchyard_limiter_learned_limit",
    "Requests per period the limiter last paced a key of this provider at: the limit the "
    "provider stated, or the rate probed after 429s (the catalog's when neither).",
    ["provider"],
    multiprocess_mode="mostrecent",
)
LIMITER_UNAVAILABLE = Counter(
    "switchyard_limiter_unavailable",
    "Provider requests not sent because the limiter could not be asked (job deferred).",
    ["provider"],
)

# --- events ------------------------------------------------------------------------------
EVENTS_PUBLISHED = Counter(
    "switchyard_events_published",
    "Events published, by source (api, system, inbound) and outcome (accepted, duplicate).",
    ["source", "outcome"],
)
EVENT_FANOUT_JOBS = Counter(
    "switchyard_event_fanout_jobs",
    "Jobs enqueued by event fan-out (webhook deliveries, route actions), by kind and outcome.",
    ["kind", "outcome"],
)

# --- credentials ---------------------------------------------------------------------------
TOKEN_REFRESH_OUTCOMES: Final = ("succeeded", "failed", "invalid_grant", "lost_race")
TOKEN_REFRESHES = Counter(
    "switchyard_token_refreshes",
    "OAuth token refreshes by outcome (succeeded, failed, invalid_grant, lost_race, interrupted).",
    ["provider", "outcome"],
)

# --- syncs ---------------------------------------------------------------------------------
SYNC_ACTIONS: Final = ("added", "updated", "deleted", "unchanged")
SYNC_RECORDS = Counter(
    "switchyard_sync_records",
    "Records written by sync runs, by action (added, updated, deleted, unchanged).",
    ["provider", "model", "action"],
)
SYNC_RUNS = Counter(
    "switchyard_sync_runs",
    "Sync runs finished, by outcome (succeeded, failed, coalesced into a live run).",
    ["provider", "model", "outcome"],
)
SYNC_TRIGGERS = Counter(
    "switchyard_sync_triggers",
    "Sync triggers (manual and scheduled), by result (enqueued, duplicate, coalesced).",
    ["provider", "result"],
)
SCHEDULER_TASKS = Counter(
    "switchyard_scheduler_task_runs",
    "Periodic tasks run by `switchyard scheduler`, by task (source) and outcome (ok, failed).",
    ["source", "outcome"],
)

# --- outbound webhooks ---------------------------------------------------------------------
WEBHOOK_OUTCOMES: Final = ("delivered", "retried", "failed", "blocked")
WEBHOOK_DELIVERIES = Counter(
    "switchyard_webhook_deliveries",
    "Outbound webhook delivery attempts by outcome (delivered, retried, failed, blocked).",
    ["outcome", "status_class"],
)
WEBHOOK_DELIVERY_DURATION = Histogram(
    "switchyard_webhook_delivery_duration_seconds",
    "Time to deliver one outbound webhook attempt, by outcome.",
    ["outcome"],
    buckets=HTTP_BUCKETS,
)
WEBHOOK_ENDPOINTS_DISABLED = Counter(
    "switchyard_webhook_endpoints_disabled",
    "Webhook endpoints disabled automatically, by reason (gone, failing).",
    ["reason"],
)

WEBHOOK_ORDERED_HANDOVERS = Counter(
    "switchyard_webhook_ordered_handovers",
    "Deliveries to ordered endpoints parked behind an older pending one (parked), and "
    "enqueued again when it ended (woken; recovered after a crash).",
    ["outcome"],
)

ACTION_CALL_OUTCOMES: Final = ("performed", "replayed")
ACTION_CALLS = Counter(
    "switchyard_action_calls",
    "Provider action calls by outcome: performed, or replayed from the local record of a "
    "step that had already succeeded (a redelivered job, no second side effect).",
    ["provider", "action", "outcome"],
)
ROUTE_STEPS = Counter(
    "switchyard_route_steps",
    "Route pipeline steps finished, by outcome (succeeded, last: the pipeline completed).",
    ["provider", "action", "outcome"],
)
# --- inbound webhooks ----------------------------------------------------------------------
INBOUND_OUTCOMES: Final = (
    "accepted",
    "duplicate",
    "missing_signature",
    "bad_signature",
    "stale_signature",
    "replayed",
    "unrouted",
    "no_secret",
    "bad_payload",
    "unknown_provider",
    "unsupported",
    "too_large",
    "error",
)
INBOUND_WEBHOOKS = Counter(
    "switchyard_inbound_webhooks",
    "Inbound provider webhooks by outcome (accepted, duplicate, bad_signature, replayed...).",
    ["provider", "outcome"],
)
CONNECTION_ACCOUNTS = Counter(
    "switchyard_connection_accounts",
    "Connects by what became of the routing account: proven, unproven (typed only), "
    "missing (a required identifier absent) or conflict (another connection holds it).",
    ["provider", "outcome"],
)

# --- API -----------------------------------------------------------------------------------
API_UNAVAILABLE = Counter(
    "switchyard_api_unavailable",
    "API requests answered 503 because a dependency (source: redis, database) was unreachable.",
    ["source"],
)
LOG_RECORDS_SUPPRESSED = Counter(
    "switchyard_log_records_suppressed",
    "Repeated log records dropped while a dependency (source: redis, database) was down.",
    ["source"],
)

API_REQUESTS = Counter(
    "switchyard_api_requests",
    "HTTP API requests by method, route template (never the concrete path) and status class.",
    ["method", "route", "status_class"],
)
API_REQUEST_DURATION = Histogram(
    "switchyard_api_request_duration_seconds",
    "HTTP API request latency, by method and route template.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)

# --- HTTP API ------------------------------------------------------------------------------
API_INPUT_REFUSED = Counter(
    "switchyard_api_input_refused",
    "Requests the API refused before routing: too_large, too_deep, timeout, media_type, "
    "encoding, control_char.",
    ["reason"],
)

ALL_METRICS: Final = (
    JOBS_ENQUEUED,
    JOBS_REJECTED,
    JOBS_STARTED,
    JOBS_FINISHED,
    JOBS_RECOVERED,
    FETCHES_RECLAIMED,
    RESCHEDULES_UNREPLICATED,
    JOB_DURATION,
    JOB_QUEUE_WAIT,
    PROVIDER_REQUESTS,
    PROVIDER_REQUEST_DURATION,
    PROVIDER_THROTTLED,
    OUTBOUND_REFUSED,
    LIMITER_GRANT_TO_SEND,
    LIMITER_LEARNED_LIMIT,
    LIMITER_UNAVAILABLE,
    EVENTS_PUBLISHED,
    EVENT_FANOUT_JOBS,
    TOKEN_REFRESHES,
    SYNC_RECORDS,
    SYNC_RUNS,
    SYNC_TRIGGERS,
    SCHEDULER_TASKS,
    WEBHOOK_DELIVERIES,
    WEBHOOK_DELIVERY_DURATION,
    WEBHOOK_ENDPOINTS_DISABLED,
    WEBHOOK_ORDERED_HANDOVERS,
    ACTION_CALLS,
    ROUTE_STEPS,
    INBOUND_WEBHOOKS,
    API_UNAVAILABLE,
    LOG_RECORDS_SUPPRESSED,
    CONNECTION_ACCOUNTS,
    API_REQUESTS,
    API_REQUEST_DURATION,
    API_INPUT_REFUSED,
)
"""Every metric of this module, for the label allow-list test and the dashboard checks."""


def queue_wait_seconds(enqueued_ms: int, eta_ms: int | None, now_ms: int) -> float:
    """How long a job attempt waited once due: since its delay ended, else since enqueue."""
    due_ms = max(enqueued_ms, eta_ms or 0)
    return max(0.0, (now_ms - due_ms) / 1000)


def status_class(status: int | None) -> str:
    """``2xx``..``5xx`` for an HTTP status, ``error`` when no response came (timeout, reset)."""
    if status is None or not 100 <= status <= 599:
        return "error"
    return f"{status // 100}xx"


def observe_provider_response(provider: str, status: int | None, seconds: float) -> None:
    """Record one provider HTTP exchange; 429 also counts as a throttled response.

    ``providers`` imports nothing of ours, so the provider client takes this as a callback
    (wired by ``workers``), not as an import.
    """
    PROVIDER_REQUESTS.labels(provider, status_class(status)).inc()
    PROVIDER_REQUEST_DURATION.labels(provider).observe(seconds)
    if status == 429:
        PROVIDER_THROTTLED.labels(provider).inc()


def observe_outbound_refusal(reason: str) -> None:
    """Count one request the outbound policy refused (the policy's ``on_refusal``)."""
    OUTBOUND_REFUSED.labels(reason).inc()


def observe_webhook_attempt(outcome: str, status: int | None, seconds: float) -> None:
    """Record one outbound webhook attempt (``status`` None when no response came)."""
    WEBHOOK_DELIVERIES.labels(outcome, status_class(status)).inc()
    WEBHOOK_DELIVERY_DURATION.labels(outcome).observe(seconds)
