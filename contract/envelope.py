"""The job contract: one envelope for every job, validated at the producer and the worker.

A job names *what* to do for *whom* (``kind``, ``org_id``, ``provider``, ``connection``) and
carries a payload typed per kind. It never carries secrets, only references: payload keys that
name a credential are refused. :func:`parse_envelope` is the single entry point, so producers
and workers cannot disagree about what a valid job is.
"""

from __future__ import annotations

import functools
import json
import os
import re
from collections.abc import Container, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    TypeAdapter,
    field_validator,
)
from pydantic import ValidationError as PydanticValidationError


class Kind(StrEnum):
    """What a job does; each kind has its own queue and handler."""

    REFRESH = "refresh"
    SYNC = "sync"
    ACTION = "action"
    DELIVER = "deliver"
    INBOUND = "inbound"


SLUG = r"^[a-z0-9][a-z0-9_.-]{0,63}$"
ORG_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"
_SECRET_KEYS = frozenset(
    {
        "password",
        "secret",
        "clientsecret",
        "accesstoken",
        "refreshtoken",
        "apikey",
        "authorization",
        "privatekey",
    }
)


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RefreshPayload(_Payload):
    """Refresh the connection's credential; ``force`` refreshes even if not near expiry."""

    force: bool = False


class SyncPayload(_Payload):
    """Run one sync of a provider model (``contacts``, ``orders``...)."""

    model: str = Field(pattern=SLUG)
    mode: Literal["incremental", "full"] = "incremental"


class ActionPayload(_Payload):
    """Call a named provider action with its input (validated by the action itself)."""

    action: str = Field(pattern=SLUG)
    input: dict[str, Any] = Field(default_factory=dict)


class DeliverPayload(_Payload):
    """Deliver one stored event to one outbound webhook endpoint."""

    event_id: str = Field(min_length=1, max_length=64)
    endpoint_id: str = Field(min_length=1, max_length=64)


class InboundPayload(_Payload):
    """Process one verified inbound provider webhook, stored by the receiver."""

    event_id: str = Field(min_length=1, max_length=64)
    topic: str = Field(min_length=1, max_length=200)


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(default_factory=lambda: os.urandom(16).hex(), pattern=r"^[0-9a-f]{32}$")
    org_id: str = Field(pattern=ORG_ID)
    provider: str = Field(pattern=SLUG)
    connection: str = Field(default="default", pattern=SLUG)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)
    priority: int = Field(default=5, ge=0, le=9, description="0 lowest, 9 most urgent")
    not_before: AwareDatetime | None = None
    correlation_id: str | None = Field(default=None, min_length=1, max_length=200)
    notify: StrictBool = Field(
        default=False, description="Publish job.succeeded / job.dead when the job ends."
    )
    created_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))

    @field_validator("priority", mode="before")
    @classmethod
    def _priority_not_bool(cls, value: Any) -> Any:
        # pydantic's lax int takes true as 1; a boolean priority is a client's mistake.
        if isinstance(value, bool):
            raise ValueError("must be an integer from 0 to 9, not a boolean")
        return value

    @field_validator("idempotency_key", "correlation_id")
    @classmethod
    def _no_control_characters(cls, value: str | None) -> str | None:
        # Both travel in Redis keys, logs and outbound headers, where CR/LF or NUL would
        # split lines or headers.
        if value is not None and _CONTROL.search(value):
            raise ValueError("must not contain control characters (CR, LF, NUL...)")
        return value


class RefreshJob(_Envelope):
    kind: Literal[Kind.REFRESH]
    payload: RefreshPayload = Field(default_factory=RefreshPayload)


class SyncJob(_Envelope):
    kind: Literal[Kind.SYNC]
    payload: SyncPayload


class ActionJob(_Envelope):
    kind: Literal[Kind.ACTION]
    payload: ActionPayload


class DeliverJob(_Envelope):
    kind: Literal[Kind.DELIVER]
    payload: DeliverPayload


class InboundJob(_Envelope):
    kind: Literal[Kind.INBOUND]
    payload: InboundPayload

    @field_validator("payload")
    @classmethod
    def _topic_printable(cls, value: InboundPayload) -> InboundPayload:
        if not value.topic.isprintable():
            raise ValueError("topic must be printable")
        return value


JobEnvelope = Annotated[
    RefreshJob | SyncJob | ActionJob | DeliverJob | InboundJob,
    Field(discriminator="kind"),
]
_ADAPTER: TypeAdapter[JobEnvelope] = TypeAdapter(JobEnvelope)


@dataclass(frozen=True)
class FieldError:
    """One problem with a submitted job: the dotted field path and what is wrong."""

    field: str
    message: str


class InvalidJobError(ValueError):
    """A job was refused; ``errors`` names every offending field."""

    error_class = "invalid_job"

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors)
        super().__init__(f"invalid job: {detail}")


@dataclass(frozen=True)
class Limits:
    """Bounds of the contract that come from settings."""

    max_payload_bytes: int = 64 * 1024


def parse_envelope(
    data: Mapping[str, Any],
    *,
    providers: Container[str],
    limits: Limits,
) -> JobEnvelope:
    """Validate a submitted job at the enqueue edge, or raise :class:`InvalidJobError`.

    On top of :func:`load_envelope`'s structural checks, the edge enforces its policies:
    the payload size limit and the refusal of secret-looking keys.
    """
    job = load_envelope(data, providers=providers)
    errors = _check_payload(job, limits)
    if errors:
        raise InvalidJobError(errors)
    return job


def load_envelope(data: Mapping[str, Any], *, providers: Container[str]) -> JobEnvelope:
    """Validate a job's structure (kind, fields, payload types, provider): what a worker
    re-checks on every message, since a message may not have come through a producer."""
    if not isinstance(data, Mapping):
        raise InvalidJobError([FieldError("(root)", "a job must be a JSON object")])
    errors = _check_kind(data) + _check_depth(data.get("payload"))
    if errors:
        raise InvalidJobError(errors)
    try:
        job = _ADAPTER.validate_python(data)
    except PydanticValidationError as exc:
        raise InvalidJobError(_field_errors(exc)) from None
    errors = _check_provider(job.provider, providers)
    if errors:
        raise InvalidJobError(errors)
    return job


def envelope_to_dict(job: JobEnvelope) -> dict[str, Any]:
    """The JSON-safe form that travels in the Dramatiq message (``notify`` only when set:
    a message without it is the one workers of the previous version accept)."""
    return job.model_dump(mode="json", exclude=None if job.notify else {"notify"})


_KINDS = frozenset(k.value for k in Kind)
_KIND_CHOICES = ", ".join(k.value for k in Kind)


def _check_kind(data: Mapping[str, Any]) -> list[FieldError]:
    kind = data.get("kind")
    if kind is None:
        return [FieldError("kind", f"required; one of {_KIND_CHOICES}")]
    if not isinstance(kind, str) or kind not in _KINDS:
        return [FieldError("kind", f"unknown kind {kind!r}; one of {_KIND_CHOICES}")]
    return []


MAX_PAYLOAD_DEPTH = 128
"""Deepest nesting a payload may have: pydantic cannot serialize past 255 levels, and no
provider call needs more than a few dozen."""


def _check_depth(payload: Any) -> list[FieldError]:
    """Measured without recursion, so a payload 100,000 levels deep is refused, not a crash."""
    level: list[Any] = [payload]
    for _ in range(MAX_PAYLOAD_DEPTH + 1):
        level = [
            child
            for node in level
            if isinstance(node, Mapping | list)
            for child in (node.values() if isinstance(node, Mapping) else node)
        ]
        if not level:
            return []
    return [FieldError("payload", f"nested deeper than {MAX_PAYLOAD_DEPTH} levels")]


def _check_provider(provider: str, providers: Container[str]) -> list[FieldError]:
    if provider in providers:
        return []
    return [FieldError("provider", f"unknown provider {provider!r}")]


_COMPACT = json.JSONEncoder(separators=(",", ":"))  # built once: json.dumps builds one per call


def _check_payload(job: JobEnvelope, limits: Limits) -> list[FieldError]:
    raw = job.payload.model_dump(mode="json")
    size = len(_COMPACT.encode(raw).encode())
    errors: list[FieldError] = []
    if size > limits.max_payload_bytes:
        errors.append(
            FieldError("payload", f"{size} bytes exceeds the limit of {limits.max_payload_bytes}")
        )
    errors.extend(FieldError(f"payload.{path}", SECRET_REFUSAL) for path in _secret_paths(raw))
    return errors


SECRET_REFUSAL = "looks like a secret; jobs carry references, store secrets on the connection"  # noqa: S105


@functools.lru_cache(maxsize=4096)
def _secret_key(key: str) -> bool:
    """Whether a payload key names a secret (cached: jobs repeat the same few keys)."""
    return _NOT_LETTERS.sub("", key.lower()) in _SECRET_KEYS


_NOT_LETTERS = re.compile(r"[^a-z]")


def _secret_paths(value: Any, prefix: str = "") -> list[str]:
    paths: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            path = f"{prefix}{key}"
            if _secret_key(str(key)):
                paths.append(path)
            paths.extend(_secret_paths(item, path + "."))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            paths.extend(_secret_paths(item, f"{prefix}{index}."))
    return paths


def _field_errors(exc: PydanticValidationError) -> list[FieldError]:
    kinds = {k.value for k in Kind}
    out: list[FieldError] = []
    for err in exc.errors(include_url=False):
        # Drop the discriminator tag pydantic puts first ('sync', 'payload', 'model').
        loc = [str(p) for p in err["loc"] if not (p in kinds and p == err["loc"][0])]
        out.append(FieldError(".".join(loc) or "(root)", err["msg"]))
    return out
