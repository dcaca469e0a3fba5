"""The ``deliver`` kind: send one stored event to one outbound webhook endpoint.

Thin on purpose: :mod:`workers.webhooks.delivery` prepares and settles the attempt, the
endpoint gates (:mod:`workers.webhooks.gates`) keep its rate and concurrency, and the
guarded client (the outbound policy, :mod:`providers.outbound`) decides where it may go.
"""

from __future__ import annotations

from contract.envelope import DeliverJob, JobEnvelope
from workers.context import WorkerContext
from workers.errors import DeferredJobError, UnsupportedJobError
from workers.webhooks.delivery import prepare, settle
from workers.webhooks.gates import EndpointGates
from workers.webhooks.ordered import Woken, run_chain
from workers.webhooks.sender import send

SLOT_WAIT_SECONDS = 0.5


def handle(job: JobEnvelope, context: WorkerContext) -> None:
    """Deliver, or raise what the attempt's outcome calls for (retry, defer, dead-letter);
    then deliver what that woke of an ordered endpoint (:func:`run_chain`)."""
    assert isinstance(job, DeliverJob)
    if context.webhooks is None:
        raise UnsupportedJobError("webhook delivery is not configured in this worker")
    run_chain(job, context, deliver_one)


def deliver_one(job: DeliverJob, context: WorkerContext, owner: str) -> Woken | None:
    """One attempt of one delivery, run by job ``owner``; returns the delivery it woke."""
    outbound = context.webhooks
    assert outbound is not None
    prepared = prepare(job, context, owner=owner)
    if prepared is None:  # delivered already, or parked behind an older event
        return None
    gates = EndpointGates(context.redis, context.namespace)
    if prepared.rate_limit_per_second:
        wait_ms = gates.rate_wait_ms(prepared.endpoint_id, prepared.rate_limit_per_second)
        if wait_ms:
            raise DeferredJobError("endpoint rate limit reached", retry_after=wait_ms / 1000)
    limit = prepared.max_concurrency
    if limit and not gates.acquire(prepared.endpoint_id, job.id, limit=limit, lease_ms=60_000):
        raise DeferredJobError("endpoint concurrency limit reached", retry_after=SLOT_WAIT_SECONDS)
    try:
        headers = prepared.headers(outbound.user_agent)
        result = send(
            outbound.client, prepared.url, prepared.body, headers, outbound.max_response_bytes
        )
    finally:
        if limit:
            gates.release(prepared.endpoint_id, job.id)
    return settle(job, context, prepared, result, owner=owner)
