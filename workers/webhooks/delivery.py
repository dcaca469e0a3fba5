"""One delivery attempt, in three steps: prepare (read, gate, sign), send, settle.

``prepare`` runs in one short transaction and decides whether to send at all: the endpoint
may be disabled (dead-letter), or, for an ordered endpoint, an older event may still be on
its way (park until it ends: :mod:`workers.webhooks.ordered`). ``settle`` logs the attempt and turns its outcome into the job's fate:
return (delivered), retry (schedule, Retry-After), or dead-letter (410, blocked, failing
for too long, out of attempts) — disabling the endpoint and publishing (once per disable,
whichever settle wins the conditional update) ``webhook.endpoint.disabled`` where the
outcome says the endpoint is gone or broken.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from contract.envelope import DeliverJob
from contract.metrics import (
    WEBHOOK_ENDPOINTS_DISABLED,
    WEBHOOK_ORDERED_HANDOVERS,
    observe_webhook_attempt,
)
from storage.crypto import Secret
from storage.errors import NotFoundError
from storage.models import Event, WebhookDelivery, WebhookEndpoint
from storage.repositories.webhook_deliveries import (
    AttemptRecord,
    WebhookDeliveryRepository,
    note_failure,
    note_success,
)
from storage.repositories.webhook_endpoints import WebhookEndpointRepository
from storage.types import utcnow
from workers.context import WorkerContext
from workers.errors import DeferredJobError, PermanentJobError, TransientJobError
from workers.retry_policy import RetryPolicy
from workers.webhooks.ordered import Woken, next_delivery, parked, recover, wake, wake_next
from workers.webhooks.sender import SendResult
from workers.webhooks.signing import message_id, signed_headers

log = logging.getLogger("switchyard.webhooks")
DISABLED_EVENT = "webhook.endpoint.disabled"


class DeliveryFailed(TransientJobError):
    """The receiver did not take the delivery; retried on the schedule (or its Retry-After)."""

    error_class = "webhook_failed"

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class DeliveryAbandoned(PermanentJobError):
    """The delivery will not be retried: endpoint gone, disabled, blocked, or out of attempts."""

    error_class = "webhook_abandoned"


@dataclass(frozen=True)
class Prepared:
    """Everything needed to send one attempt, read in one transaction."""

    delivery_id: str
    endpoint_id: str
    url: str
    body: bytes
    msg_id: str
    secrets: tuple[Secret, ...]
    rate_limit_per_second: int | None
    max_concurrency: int | None

    def headers(self, user_agent: str) -> dict[str, str]:
        """Signed headers for an attempt made now (receivers check the timestamp's age)."""
        signed = signed_headers(self.msg_id, int(time.time()), self.body, self.secrets)
        return {"content-type": "application/json", "user-agent": user_agent, **signed}


def event_body(event: Event) -> bytes:
    """The JSON body of an event's deliveries: ``type``, ``timestamp`` and ``data``."""
    document = {
        "id": event.id,
        "type": event.type,
        "timestamp": event.created_at.isoformat(),
        "data": event.data,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def prepare(
    job: DeliverJob, context: WorkerContext, *, owner: str | None = None
) -> Prepared | None:
    """What to send for this job, or None when nothing is to be sent now: the delivery is
    already done (this job delivered it before a crash), or it is parked behind an older
    event of an ordered endpoint until that one ends (:mod:`workers.webhooks.ordered`).
    ``owner``: the job running this one, when it woke it (it is then the oldest pending)."""
    owner = owner or job.id
    opened = _open(job, context, owner=owner)
    if isinstance(opened, Prepared):
        return opened
    endpoint_id = job.payload.endpoint_id
    if opened.delivered:
        recover(context, job, endpoint_id)
        return None
    if context.jobs is None:  # nobody could enqueue it again: re-check on a timer
        wait = context.webhooks.ordered_recheck_seconds if context.webhooks else 5.0
        raise DeferredJobError("an older event is still on its way", retry_after=wait)
    parking = parked(context)
    parking.park(endpoint_id, opened.delivery_id, job.id)
    with context.sessions() as session:  # re-read after parking: see ordered.py on races
        waiting = WebhookDeliveryRepository(session, job.org_id).earlier_pending(opened.delivery)
    if waiting or not parking.unpark(endpoint_id, opened.delivery_id):
        WEBHOOK_ORDERED_HANDOVERS.labels("parked").inc()
        return None
    return prepare(job, context, owner=owner)  # the older one ended while this one parked


@dataclass(frozen=True)
class _NotNow:
    """Nothing to send: ``delivered`` already, else waiting behind an older event."""

    delivery: WebhookDelivery
    delivered: bool

    @property
    def delivery_id(self) -> str:
        return self.delivery.id


def _open(job: DeliverJob, context: WorkerContext, *, owner: str) -> Prepared | _NotNow:
    """Read endpoint, event and delivery, open this job's round and check it may be sent."""
    org = job.org_id
    with context.sessions() as session:
        endpoints = WebhookEndpointRepository(session, org, context.keyring)
        deliveries = WebhookDeliveryRepository(session, org)
        endpoint, event, delivery = _load(job, deliveries)
        mine = delivery.job_id == job.id  # else this job opens a new round (below)
        if mine and delivery.status == "delivered":  # delivered before a crash, before ack
            session.commit()
            return _NotNow(delivery, delivered=True)
        if mine and delivery.status == "failed":  # given up already (crash, or handed back)
            session.commit()
            recover(context, job, endpoint.id)
            raise DeliveryAbandoned(f"delivery failed: {delivery.last_error}")
        # a woken job's waker has just read that it is the oldest pending delivery
        may_wait = endpoint.ordered and endpoint.enabled and owner == job.id
        if may_wait and deliveries.earlier_pending(delivery):  # park; the round opens later
            session.commit()
            return _NotNow(delivery, delivered=False)
        deliveries.open_round(delivery, job.id)
        if not endpoint.enabled:
            deliveries.mark(delivery, "failed", f"endpoint disabled ({endpoint.disabled_reason})")
            session.commit()
            wake_next(context, job, endpoint.id, owner=owner)
            raise DeliveryAbandoned(f"endpoint {endpoint.id} is disabled")
        secrets = endpoints.signing_secrets(endpoint, utcnow())
        prepared = _prepared(endpoint, delivery, event, secrets)
        session.commit()
    return prepared


def _load(
    job: DeliverJob, deliveries: WebhookDeliveryRepository
) -> tuple[WebhookEndpoint, Event, WebhookDelivery]:
    """Endpoint, event and delivery in one round trip (the ordered chain's hot path)."""
    try:
        return deliveries.ensure_with(job.payload.endpoint_id, job.payload.event_id)
    except NotFoundError as exc:
        raise DeliveryAbandoned(f"{exc}; nothing to deliver") from None


def _prepared(
    endpoint: WebhookEndpoint,
    delivery: WebhookDelivery,
    event: Event,
    secrets: tuple[Secret, ...],
) -> Prepared:
    return Prepared(
        delivery_id=delivery.id,
        endpoint_id=endpoint.id,
        url=endpoint.url,
        body=event_body(event),
        msg_id=message_id(event.id),
        secrets=secrets,
        rate_limit_per_second=endpoint.rate_limit_per_second,
        max_concurrency=endpoint.max_concurrency,
    )


@dataclass(frozen=True)
class Verdict:
    """How an attempt ends: the attempt's outcome, the delivery's status, why, what to raise."""

    outcome: str
    status: str
    disable: str | None = None
    error: Exception | None = None


def settle(
    job: DeliverJob,
    context: WorkerContext,
    prepared: Prepared,
    result: SendResult,
    *,
    owner: str | None = None,
) -> Woken | None:
    """Log the attempt, update endpoint and delivery, then return or raise the job's fate.

    Returns the endpoint's next delivery when this one was delivered and woke it, taken for
    ``owner`` (the job running this one; itself by default): the caller runs it next, or
    hands it back (:mod:`workers.webhooks.ordered`).
    """
    owner = owner or job.id
    outbound = context.webhooks
    assert outbound is not None
    policy = context.retry_policy_for(job.kind, job.provider)
    now = utcnow()
    found = None
    with context.sessions.begin() as session:
        endpoints = WebhookEndpointRepository(session, job.org_id, context.keyring)
        deliveries = WebhookDeliveryRepository(session, job.org_id)
        endpoint, delivery = deliveries.get_with_endpoint(prepared.delivery_id)
        verdict = _verdict(result, endpoint, delivery, now, policy, outbound.disable_after)
        record = AttemptRecord(
            outcome=verdict.outcome,
            status_code=result.status,
            latency_ms=int(result.seconds * 1000),
            response_excerpt=result.excerpt,
            error=result.error,
        )
        deliveries.record_attempt(delivery, record, status=verdict.status)
        disabled_at = None
        if verdict.disable is not None:
            disabled_at = endpoints.disable_once(endpoint.id, verdict.disable)
        if verdict.status != "pending":  # this delivery ended: the next one may start
            found = next_delivery(context, session, job.org_id, endpoint.id)
    observe_webhook_attempt(verdict.outcome, result.status, result.seconds)
    if verdict.disable is not None and disabled_at is not None:
        disable = Disabled(prepared.endpoint_id, verdict.disable, disabled_at, result.status)
        _announce_disabled(context, job.org_id, disable)
    if verdict.error is None:  # delivered: the caller runs the next one at once
        return wake(context, job, found, owner=owner, enqueue=False)
    wake(context, job, found, owner=owner)
    raise verdict.error


def _verdict(
    result: SendResult,
    endpoint: WebhookEndpoint,
    delivery: WebhookDelivery,
    now: datetime,
    policy: RetryPolicy,
    disable_after: timedelta,
) -> Verdict:
    if result.ok:
        note_success(endpoint)
        return Verdict("delivered", "delivered")
    if result.blocked:
        note_failure(endpoint, now)
        return Verdict("blocked", "failed", error=DeliveryAbandoned(f"blocked: {result.error}"))
    if result.status == 410:
        gone = DeliveryAbandoned("the endpoint answered 410 Gone; it is now disabled")
        return Verdict("failed", "failed", disable="gone", error=gone)
    since = note_failure(endpoint, now)
    if now - since >= disable_after:
        failing = DeliveryAbandoned(f"the endpoint has failed since {since.isoformat()}; disabled")
        return Verdict("failed", "failed", disable="failing", error=failing)
    attempt = delivery.attempts + 1
    if attempt >= policy.max_attempts:
        spent = DeliveryAbandoned(f"{policy.max_attempts} attempts failed, last: {result.error}")
        return Verdict("failed", "failed", error=spent)
    # the delay follows the delivery's own attempt log (a round may span several messages)
    wait_s = policy.delay_ms(attempt, result.retry_after) / 1000
    retry = DeliveryFailed(result.error or "not delivered", retry_after=wait_s)
    return Verdict("retried", "pending", error=retry)


@dataclass(frozen=True)
class Disabled:
    """One disable of an endpoint: the settle whose conditional update won announces it."""

    endpoint_id: str
    reason: str
    at: datetime
    last_status: int | None


def _announce_disabled(context: WorkerContext, org_id: str, disabled: Disabled) -> None:
    WEBHOOK_ENDPOINTS_DISABLED.labels(disabled.reason).inc()
    log.warning("webhook endpoint %s disabled: %s", disabled.endpoint_id, disabled.reason)
    if context.events is None:
        return
    data = {
        "endpoint_id": disabled.endpoint_id,
        "reason": disabled.reason,
        "last_status": disabled.last_status,
    }
    context.events.publish(
        org_id,
        DISABLED_EVENT,
        data,
        source="system",
        idempotency_key=f"{DISABLED_EVENT}:{disabled.endpoint_id}:{disabled.at.isoformat()}",
    )
