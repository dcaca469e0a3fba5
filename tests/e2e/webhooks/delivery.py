"""Helpers shared by the outbound-webhook end-to-end tests."""

from __future__ import annotations

from typing import Any

from standardwebhooks import Webhook

from storage.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from storage.repositories.dead_jobs import AdminDeadJobRepository, DeadJobFilter
from storage.repositories.webhook_deliveries import WebhookDeliveryRepository
from storage.repositories.webhook_endpoints import IssuedEndpoint, WebhookEndpointRepository
from switchyard.runtime import Runtime
from workers.inprocess import run_until_idle


def drain(runtime: Runtime) -> None:
    run_until_idle(runtime.worker_broker, runtime.lanes, threads=4, timeout_s=60)


def endpoint(runtime: Runtime, org: str, url: str, **options: Any) -> IssuedEndpoint:
    with runtime.sessions.begin() as session:
        return WebhookEndpointRepository(session, org, runtime.keyring).create(url, **options)


def publish(runtime: Runtime, org: str, type: str = "QR_SCANNED", **data: Any) -> str:
    return runtime.event_publisher.publish(org, type, data or {"qr": "q1"}).event_id


def deliveries(runtime: Runtime, org: str) -> list[WebhookDelivery]:
    with runtime.sessions() as session:
        return list(WebhookDeliveryRepository(session, org).list())


def attempts(runtime: Runtime, org: str, delivery_id: str) -> list[WebhookAttempt]:
    with runtime.sessions() as session:
        return list(WebhookDeliveryRepository(session, org).attempts(delivery_id))


def get_endpoint(runtime: Runtime, org: str, endpoint_id: str) -> WebhookEndpoint:
    with runtime.sessions() as session:
        return WebhookEndpointRepository(session, org, runtime.keyring).get(endpoint_id)


def dead(runtime: Runtime, org: str) -> list[Any]:
    with runtime.sessions() as session:
        return list(AdminDeadJobRepository(session).list(DeadJobFilter(org_id=org)))


def verify(secret: str, request: Any) -> Any:
    return Webhook(secret).verify(request.body, request.headers)
