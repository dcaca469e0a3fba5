"""Envelope fields are exact (issue 17, finding 6): no boolean priorities, no control
characters in keys and ids, no payloads nested past what can be serialized."""

from __future__ import annotations

from typing import Any

import pytest

from contract.envelope import (
    MAX_PAYLOAD_DEPTH,
    InvalidJobError,
    Limits,
    envelope_to_dict,
    load_envelope,
    parse_envelope,
)

BASE = {"kind": "action", "org_id": "acme", "provider": "hubspot", "payload": {"action": "noop"}}


def refused_fields(job: dict[str, Any]) -> list[str]:
    with pytest.raises(InvalidJobError) as caught:
        parse_envelope(job, providers={"hubspot"}, limits=Limits())
    return [e.field for e in caught.value.errors]


@pytest.mark.parametrize("value", [True, False])
def test_boolean_priority_is_refused(value: bool) -> None:
    """priority: true is a mistake, not priority 1."""
    assert refused_fields({**BASE, "priority": value}) == ["priority"]


@pytest.mark.parametrize("field", ["correlation_id", "idempotency_key"])
@pytest.mark.parametrize("value", ["a\r\nX-Evil: 1", "a\x00", "tab\there", "del\x7f"])
def test_control_characters_in_keys_and_ids_are_refused(field: str, value: str) -> None:
    """CR, LF, NUL and other control characters never reach Redis keys, logs or headers."""
    assert refused_fields({**BASE, field: value}) == [field]


def test_printable_keys_and_ids_still_pass() -> None:
    """Ordinary ids, unicode included, are accepted as before."""
    job = parse_envelope(
        {**BASE, "correlation_id": "req-1 é", "idempotency_key": "order:42", "priority": 9},
        providers={"hubspot"},
        limits=Limits(),
    )
    assert (job.correlation_id, job.priority) == ("req-1 é", 9)


@pytest.mark.parametrize("levels", [300, 100_000])
def test_payload_deeper_than_the_limit_is_refused_not_a_crash(levels: int) -> None:
    """A payload nested past MAX_PAYLOAD_DEPTH names the payload (pydantic would crash)."""
    deep: Any = {}
    for _ in range(levels):
        deep = {"a": [deep]}
    assert refused_fields({**BASE, "payload": {"action": "noop", "input": deep}}) == ["payload"]


def test_payload_at_the_limit_round_trips() -> None:
    """A payload just inside the limit validates and serializes, at the worker edge too."""
    deep: Any = {}
    for _ in range(MAX_PAYLOAD_DEPTH - 3):
        deep = {"a": deep}
    job = parse_envelope(
        {**BASE, "payload": {"action": "noop", "input": deep}},
        providers={"hubspot"},
        limits=Limits(),
    )
    assert load_envelope(envelope_to_dict(job), providers={"hubspot"}) == job
