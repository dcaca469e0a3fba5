"""Every mapped model, imported here so ``Base.metadata`` is complete once this is imported."""

from storage.models.api_key import API_KEY_SCOPES, ApiKey
from storage.models.audit_event import AuditEvent
from storage.models.connection import CONNECTION_STATUSES, Connection
from storage.models.credential import CREDENTIAL_SECRET_FIELDS, Credential
from storage.models.dead_job import DeadJob
from storage.models.event import EVENT_SOURCES, Event
from storage.models.organization import ORG_NAME_PATTERN, Organization
from storage.models.sync import SYNC_MODES, Record, SyncRun, SyncSchedule, SyncState

__all__ = [
    "API_KEY_SCOPES",
    "CONNECTION_STATUSES",
    "CREDENTIAL_SECRET_FIELDS",
    "EVENT_SOURCES",
    "ORG_NAME_PATTERN",
    "SYNC_MODES",
    "ApiKey",
    "AuditEvent",
    "Connection",
    "Credential",
    "DeadJob",
    "Event",
    "Organization",
    "Record",
    "SyncRun",
    "SyncSchedule",
    "SyncState",
]
