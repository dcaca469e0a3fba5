"""The producer's own message encoding: what a worker decodes is what Dramatiq would send."""

from __future__ import annotations

from typing import Any

import dramatiq
import pytest
from dramatiq.encoder import PickleEncoder

from contract.envelope import Limits, envelope_to_dict, parse_envelope
from contract.names import actor_name, queue_for
from producers.enqueue import encoded
from queueing.lane_push import Encoded, _fresh_entry

JOBS: list[dict[str, Any]] = [
    {"kind": "action", "org_id": "o1", "provider": "slack", "payload": {"action": "noop"}},
    {
        "kind": "sync",
        "org_id": "o1",
        "provider": "hubspot",
        "payload": {"model": "contacts"},
        "notify": True,
        "idempotency_key": "k-é\u2028",
        "not_before": "2030-01-01T00:00:00+02:00",
        "correlation_id": "c\"'\\",
    },
    {
        "kind": "action",
        "org_id": "o1",
        "provider": "slack",
        "payload": {
            "action": "noop",
            "input": {"n": [float("nan"), float("inf"), -0.0, 2.5, 10**30, None, True]},
        },
    },
    {
        "kind": "action",
        "org_id": "o1",
        "provider": "slack",
        "payload": {"action": "noop", "input": {"lone": "a\ud800b", "emoji": "\U0001f600"}},
    },
]


@pytest.mark.parametrize("data", JOBS, ids=["action", "sync-notify-unicode", "floats", "surrogate"])
def test_encoded_message_decodes_as_dramatiqs_own(data: dict[str, Any]) -> None:
    """Decoded, the producer's bytes equal Dramatiq's encoding of the same message."""
    job = parse_envelope(data, providers={"slack", "hubspot"}, limits=Limits())
    built = encoded(job, "e" * 32)
    assert isinstance(built, Encoded) and built.queue_name == queue_for(job.kind)
    message = dramatiq.Message(
        queue_for(job.kind), actor_name(job.kind), (envelope_to_dict(job),), {}, {}, job.id
    )
    _, reference = _fresh_entry(message, "e" * 32)
    ours, theirs = dramatiq.Message.decode(built.data), dramatiq.Message.decode(reference)
    assert abs(ours.message_timestamp - theirs.message_timestamp) < 60_000
    stamp = {"message_timestamp": 0}  # repr: NaN equals NaN only as text
    assert repr(ours.asdict() | stamp) == repr(theirs.asdict() | stamp)
    assert ours.options == {"redis_message_id": "e" * 32} and ours.message_id == job.id


def test_another_encoder_gets_the_message_object() -> None:
    """With a non-default encoder configured, the message object is pushed (encoded by it)."""
    job = parse_envelope(JOBS[0], providers={"slack"}, limits=Limits())
    previous = dramatiq.get_encoder()
    dramatiq.set_encoder(PickleEncoder())
    try:
        built = encoded(job, "e" * 32)
    finally:
        dramatiq.set_encoder(previous)
    assert isinstance(built, dramatiq.Message) and built.args == (envelope_to_dict(job),)
