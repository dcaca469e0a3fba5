"""Settings of where Switchyard's requests on a tenant's behalf may go (the outbound policy)
and of webhook delivery and the inbound receiver; part of :mod:`switchyard.settings`."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import NoDecode

from providers.outbound.policy import DEFAULT_PORTS, parse_ports
from switchyard.settings_env import split_csv


class WebhookSettings(BaseModel):
    """Outbound deliveries and the inbound receiver (``SWITCHYARD_WEBHOOKS__...``)."""

    retry_schedule_seconds: Annotated[list[float], NoDecode] = Field(
        default_factory=lambda: [0.0, 5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0, 36000.0],
        description="Delay before each delivery attempt; the first is normally 0 (immediately).",
    )
    retry_jitter: float = Field(
        default=0.1, ge=0, le=1, description="Each retry delay varies by up to this fraction."
    )
    disable_after_days: float = Field(
        default=5, gt=0, description="An endpoint failing continuously this long is disabled."
    )
    ordered_recheck_seconds: float = Field(
        default=5,
        gt=0,
        le=3600,
        description="How often an ordered endpoint's next delivery checks its predecessor.",
    )
    rotation_grace_hours: float = Field(
        default=24, ge=0, description="How long the previous secret keeps signing after rotation."
    )
    allowed_private_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Deprecated: use outbound.allowed_networks (these are added to it).",
    )
    connect_timeout_seconds: float = Field(
        default=5, gt=0, le=60, description="Delivery connect timeout."
    )
    read_timeout_seconds: float = Field(
        default=15, gt=0, le=300, description="Delivery response timeout."
    )
    max_response_bytes: int = Field(
        default=64 * 1024, ge=1024, description="Most of a receiver's response body read."
    )
    inbound_max_body_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest provider webhook accepted."
    )
    inbound_tolerance_seconds: int = Field(
        default=300, ge=1, description="How old a signed provider webhook's timestamp may be."
    )
    inbound_replay_window_seconds: int = Field(
        default=24 * 3600, ge=1, description="How long a provider webhook id is remembered."
    )
    event_retention_days: int = Field(
        default=30,
        ge=1,
        le=3650,
        description="How long events, their deliveries and attempt logs are kept once no "
        "delivery is pending, and processed inbound webhooks (their provider event ids drop "
        "provider retries; keep this longer than the inbound replay window).",
    )
    inbound_public_url: str | None = Field(
        default=None,
        pattern=r"^https?://[^/?#]+$",
        description="Public origin providers call (https://hooks.example.com); schemes that "
        "sign the URL (Twilio, Square, HubSpot) need it when a proxy sits in front.",
    )

    _split = field_validator("retry_schedule_seconds", "allowed_private_networks", mode="before")(
        lambda v: split_csv(v)
    )

    @field_validator("retry_schedule_seconds")
    @classmethod
    def _schedule(cls, value: list[float]) -> list[float]:
        if not value or any(delay < 0 for delay in value):
            raise ValueError("must list at least one delay, none negative")
        return value

    @model_validator(mode="after")
    def _retention_covers_replay_window(self) -> WebhookSettings:
        if self.event_retention_days * 86_400 < self.inbound_replay_window_seconds:
            raise ValueError(
                "event_retention_days must cover inbound_replay_window_seconds, or a provider's "
                "retry could be processed twice"
            )
        return self

    _networks = field_validator("allowed_private_networks")(lambda v: _cidrs(v))


def _cidrs(value: list[str]) -> list[str]:
    for item in value:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(f"{item!r} is not a CIDR network") from None
    return value


class OutboundSettings(BaseModel):
    """The outbound policy for requests made on a tenant's behalf (provider calls, checks,
    token requests, webhook deliveries): see docs/outbound.md."""

    allowed_networks: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Non-public CIDRs tenant-driven requests may reach (self-hosted receivers, "
        "a local sandbox). Cloud metadata addresses stay refused inside them.",
    )
    allowed_ports: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_PORTS),
        description="Ports and ranges (80, 1024-65535) tenant-driven requests may use.",
    )

    _split = field_validator("allowed_networks", "allowed_ports", mode="before")(
        lambda v: split_csv(v)
    )
    _networks = field_validator("allowed_networks")(lambda v: _cidrs(v))

    @field_validator("allowed_ports")
    @classmethod
    def _ports(cls, value: list[str]) -> list[str]:
        parse_ports(value)
        return value
