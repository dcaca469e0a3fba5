"""``/v1/webhooks``: outbound endpoints (a secret only when created or rotated) and their
deliveries."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, Strict, StrictInt

from switchyard.api.schemas.common import Answer, Item, OrgId, RequestBody

StrictNumber = Annotated[float, Strict()]
"""A JSON number (``true`` is not one)."""
MAX_GRACE_HOURS = 24 * 366


class EndpointRequest(RequestBody):
    org_id: OrgId = None
    url: str = Field(min_length=1, max_length=2048, examples=["https://example.com/hooks"])
    description: str | None = Field(default=None, max_length=500)
    event_types: list[str] | None = Field(
        default=None, description="Event types delivered; empty or absent: all of them."
    )
    rate_limit_per_second: StrictNumber | None = None
    max_concurrency: StrictInt | None = None


class Endpoint(Item):
    """An endpoint's settings and state; never its secret."""

    url: str
    enabled: bool


class IssuedEndpoint(Endpoint):
    """An endpoint with its signing secret: shown in this answer only."""

    secret: str = Field(examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])


class RotateSecretRequest(RequestBody):
    org_id: OrgId = None
    grace_hours: StrictNumber | None = Field(
        default=None,
        ge=0,
        le=MAX_GRACE_HOURS,
        description="Hours the old secret keeps signing (default: setting), at most a year.",
    )


class Delivery(Item):
    endpoint_id: str
    event_id: str
    status: str


class DeliveryReplayed(Answer):
    delivery_id: str
    job_id: str


class ReplayDeliveriesRequest(RequestBody):
    org_id: OrgId = None
    since: str = Field(
        max_length=64, description="ISO 8601 time, or 30m / 2h / 7d ago.", examples=["2h"]
    )
    endpoint_id: str | None = Field(default=None, max_length=64)


class ReplayReport(Answer):
    """New job id per replayed id, and why each refused one was refused."""

    replayed: dict[str, str]
    refused: dict[str, str]
