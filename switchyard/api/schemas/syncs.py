"""``/v1/syncs`` and ``/v1/records``: sync triggers, run history, synced records."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from switchyard.api.schemas.common import Answer, Item, OrgId, RequestBody


class SyncRequest(RequestBody):
    org_id: OrgId = None
    provider: str = Field(min_length=1, max_length=64, examples=["hubspot"])
    model: str = Field(min_length=1, max_length=64, examples=["contacts"])
    mode: Literal["incremental", "full"] = "incremental"
    connection: str = Field(default="default", min_length=1, max_length=64)


class SyncTriggered(Answer):
    """``enqueued``, ``duplicate`` (already queued) or ``coalesced`` (joined the live run)."""

    result: str = Field(examples=["enqueued"])
    job_id: str | None
    run_id: str | None


class SyncRun(Item):
    provider: str
    model: str
    status: str


class SyncedRecord(Item):
    """A record as the provider last sent it (``data``), with our bookkeeping times."""

    model: str
    data: Any
