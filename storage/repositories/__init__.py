"""Repositories: the only way the rest of Switchyard reads and writes durable state.

They take a ``Session`` and flush, never commit: the caller owns the transaction. Those
holding org data take the ``org_id`` at construction and filter every query by it; the
``Admin*`` variants are the explicit, operator-only way across orgs.
"""

from storage.repositories.api_keys import ApiKeyInfo, ApiKeyRepository, IssuedApiKey, hash_api_key
from storage.repositories.audit import AdminAuditRepository, AuditRepository
from storage.repositories.connections import ConnectionRepository, find_connections_by_account
from storage.repositories.credentials import (
    CredentialRepository,
    DecryptedCredential,
    reencrypt_credentials,
)
from storage.repositories.dead_jobs import (
    AdminDeadJobRepository,
    DeadJobFilter,
    DeadJobRepository,
    FailedJob,
)
from storage.repositories.events import (
    EVENT_TYPE_PATTERN,
    AdminEventRepository,
    EventRepository,
)
from storage.repositories.organizations import OrganizationRepository
from storage.repositories.records import RecordRepository
from storage.repositories.routes import ActionRunRepository, RouteRepository
from storage.repositories.sync_schedules import AdminSyncScheduleRepository, SyncScheduleRepository
from storage.repositories.syncs import SyncRepository
from storage.repositories.webhook_deliveries import AttemptRecord, WebhookDeliveryRepository
from storage.repositories.webhook_endpoints import (
    IssuedEndpoint,
    WebhookEndpointRepository,
    reencrypt_webhook_secrets,
)

__all__ = [
    "EVENT_TYPE_PATTERN",
    "ActionRunRepository",
    "AdminAuditRepository",
    "AdminDeadJobRepository",
    "AdminEventRepository",
    "AdminSyncScheduleRepository",
    "ApiKeyInfo",
    "ApiKeyRepository",
    "AttemptRecord",
    "AuditRepository",
    "ConnectionRepository",
    "CredentialRepository",
    "DeadJobFilter",
    "DeadJobRepository",
    "DecryptedCredential",
    "EventRepository",
    "FailedJob",
    "IssuedApiKey",
    "IssuedEndpoint",
    "OrganizationRepository",
    "RecordRepository",
    "RouteRepository",
    "SyncRepository",
    "SyncScheduleRepository",
    "WebhookDeliveryRepository",
    "WebhookEndpointRepository",
    "find_connections_by_account",
    "hash_api_key",
    "reencrypt_credentials",
    "reencrypt_webhook_secrets",
]
