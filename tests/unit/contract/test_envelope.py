"""The job contract: what is accepted, and how each refusal names its field."""

from __future__ import annotations

from typing import Any

import pytest

from contract.envelope import (
    ActionJob,
    InvalidJobError,
    Kind,
    Limits,
    SyncJob,
    envelope_to_dict,
    parse_envelope,
)

PROVIDERS = {"hubspot", "slack"}
LIMITS = Limits(max_payload_bytes=1024)


def parse(**data: Any) -> Any:
    base: dict[str, Any] = {"org_id": "org1", "provider": "slack"}
    return parse_envelope({**base, **data}, providers=PROVIDERS, limits=LIMITS)


def fields_of(exc: pytest.ExceptionInfo[InvalidJobError]) -> list[str]:
    return [e.field for e in exc.value.errors]


def test_action_job_is_parsed_with_defaults() -> None:
    """A minimal action job gets an id, the default connection, priority and a timestamp."""
    job = parse(kind="action", payload={"action": "noop"})
    assert isinstance(job, ActionJob)
    assert job.kind is Kind.ACTION
    assert len(job.id) == 32 and job.connection == "default" and job.priority == 5
    assert job.created_at.tzinfo is not None


def test_payload_type_follows_kind() -> None:
    """A sync job's payload is a SyncPayload with its own defaults."""
    job = parse(kind="sync", payload={"model": "contacts"})
    assert isinstance(job, SyncJob)
    assert job.payload.mode == "incremental"


def test_round_trip_through_json_form() -> None:
    """What the producer sends is what the worker parses back, field for field."""
    job = parse(kind="action", payload={"action": "noop", "input": {"a": 1}}, idempotency_key="k")
    again = parse_envelope(envelope_to_dict(job), providers=PROVIDERS, limits=LIMITS)
    assert again == job


def test_unknown_kind_names_the_field_and_choices() -> None:
    """An unknown kind is refused on ``kind`` listing the valid kinds."""
    with pytest.raises(InvalidJobError) as exc:
        parse(kind="teleport", payload={})
    assert fields_of(exc) == ["kind"]
    assert "refresh, sync, action, deliver, inbound" in exc.value.errors[0].message


def test_missing_kind_is_refused() -> None:
    """A job without a kind is refused on ``kind``."""
    with pytest.raises(InvalidJobError) as exc:
        parse(payload={})
    assert fields_of(exc) == ["kind"]


def test_unknown_provider_is_refused() -> None:
    """A provider outside the catalog is refused on ``provider``."""
    with pytest.raises(InvalidJobError) as exc:
        parse(kind="action", provider="myspace", payload={"action": "noop"})
    assert fields_of(exc) == ["provider"]
    assert "myspace" in exc.value.errors[0].message


def test_bad_payload_names_the_nested_field() -> None:
    """A sync payload without its model is refused on ``payload.model``, tag stripped."""
    with pytest.raises(InvalidJobError) as exc:
        parse(kind="sync", payload={"mode": "full"})
    assert fields_of(exc) == ["payload.model"]


def test_extra_payload_fields_are_refused() -> None:
    """A typo in a payload key is an error, not silently ignored."""
    with pytest.raises(InvalidJobError) as exc:
        parse(kind="sync", payload={"model": "contacts", "mdoe": "full"})
    assert fields_of(exc) == ["payload.mdoe"]


def test_oversize_payload_is_refused_with_sizes() -> None:
    """A payload over the limit is refused on ``payload`` with its size and the limit."""
    with pytest.raises(InvalidJobError) as exc:
        parse(kind="action", payload={"action": "noop", "input": {"blob": "x" * 2000}})
    assert fields_of(exc) == ["payload"]
    assert "exceeds the limit of 1024" in exc.value.errors[0].message


def test_secrets_in_payload_are_refused_wherever_they_nest() -> None:
    """Credential-like keys are refused at any depth, naming the path, never echoing values."""
    payload = {"action": "noop", "input": {"headers": [{"Authorization": "Bearer abc123"}]}}
    with pytest.raises(InvalidJobError) as exc:
        parse(kind="action", payload=payload)
    assert fields_of(exc) == ["payload.input.headers.0.Authorization"]
    assert "abc123" not in str(exc.value)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("org_id", ""),
        ("org_id", "a b"),
        ("priority", 10),
        ("connection", "Not A Slug"),
        ("not_before", "2026-01-01T00:00:00"),
        ("idempotency_key", ""),
    ],
)
def test_bad_envelope_fields_are_named(field: str, value: Any) -> None:
    """Each malformed envelope field is refused under its own name."""
    with pytest.raises(InvalidJobError) as exc:
        parse(kind="action", payload={"action": "noop"}, **{field: value})
    assert fields_of(exc) == [field]


def test_non_object_job_is_refused() -> None:
    """A job that is not a JSON object is refused at the root."""
    with pytest.raises(InvalidJobError) as exc:
        parse_envelope(["kind"], providers=PROVIDERS, limits=LIMITS)  # type: ignore[arg-type]
    assert fields_of(exc) == ["(root)"]
