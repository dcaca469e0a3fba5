"""Every mapped model, imported here so ``Base.metadata`` is complete once this is imported."""

from storage.models.action_run import ActionRun
from storage.models.api_key import API_KEY_SCOPES, ApiKey
from storage.models.audit_event import AuditEvent
from storage.models.connection import CONNECTION_STATUSES, Connection
from storage.models.credential import CREDENTIAL_SECRET_FIELDS, Credential, RefreshIntent
from storage.models.dead_job import DeadJob
from storage.models.event import EVENT_SOURCES, Event
from storage.models.inbound_webhook import InboundWebhook
from storage.models.key_rotation import KeyRotationProgress
from storage.models.organization import ORG_NAME_PATTERN, Organization
from storage.models.route import Route
from storage.models.sync import SYNC_MODES, Record, SyncRun, SyncSchedule, SyncState
from storage.models.webhook import (
    ATTEMPT_OUTCOMES,
    DELIVERY_STATUSES,
    DISABLED_REASONS,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)

__all__ = [
    "API_KEY_SCOPES",
    "ATTEMPT_OUTCOMES",
    "CONNECTION_STATUSES",
    "CREDENTIAL_SECRET_FIELDS",
    "DELIVERY_STATUSES",
    "DISABLED_REASONS",
    "EVENT_SOURCES",
    "ORG_NAME_PATTERN",
    "SYNC_MODES",
    "ActionRun",
    "ApiKey",
    "AuditEvent",
    "Connection",
    "Credential",
    "DeadJob",
    "Event",
    "InboundWebhook",
    "KeyRotationProgress",
    "Organization",
    "Record",
    "RefreshIntent",
    "Route",
    "SyncRun",
    "SyncSchedule",
    "SyncState",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
