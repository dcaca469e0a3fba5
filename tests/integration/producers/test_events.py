"""Publishing events: stored once per key, fanned out once per target, finished after a crash."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from producers.events import EventPublisher, FanoutJob, InvalidEventError
from storage.models import Event
from storage.repositories import EventRepository
from switchyard.runtime import Runtime

ACTION = {"kind": "action", "provider": "slack", "payload": {"action": "noop"}}


class Recorder:
    """A fan-out target answering one noop job per event, remembering what it saw."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, session: Session, event: Event) -> Sequence[FanoutJob]:
        self.seen.append(event.type)
        return [FanoutJob(key="recorder", job=ACTION)]


def publisher(runtime: Runtime, *targets: object) -> EventPublisher:
    return EventPublisher(
        sessions=runtime.sessions,
        enqueuer=runtime.enqueuer,
        fanouts=lambda: targets,  # type: ignore[arg-type,return-value]
        max_data_bytes=1024,
    )


def queued(runtime: Runtime) -> int:
    return runtime.lanes.depth("action").total


def laned_for(runtime: Runtime, org_id: str) -> int:
    """The org's jobs in the action lanes (other orgs' may be there on a shared database)."""
    return int(runtime.lanes.redis.zcard(runtime.lanes.keys("action").lane(f"lane:{org_id}")))


def test_publish_stores_and_fans_out(runtime: Runtime, org_id: str) -> None:
    """A new event is stored, each target's job is enqueued, and the event is marked done."""
    target = Recorder()
    published = publisher(runtime, target).publish(org_id, "QR_SCANNED", {"code": "abc"})
    assert published.duplicate is False and published.jobs == 1
    assert target.seen == ["QR_SCANNED"] and queued(runtime) == 1
    with runtime.sessions() as session:
        event = EventRepository(session, org_id).get(published.event_id)
        assert event.data == {"code": "abc"} and event.fanned_out_at is not None


def test_repeated_key_returns_first_event_without_new_jobs(runtime: Runtime, org_id: str) -> None:
    """The same idempotency key answers the first event's id and enqueues nothing more."""
    events = publisher(runtime, Recorder())
    first = events.publish(org_id, "QR_SCANNED", {}, idempotency_key="scan-1")
    again = events.publish(org_id, "QR_SCANNED", {}, idempotency_key="scan-1")
    assert again.event_id == first.event_id and again.duplicate and again.jobs == 0
    assert queued(runtime) == 1


def test_refan_finishes_a_crashed_fanout_once(runtime: Runtime, org_id: str) -> None:
    """An event stored but not fanned out is completed by refan_pending, jobs deduplicated."""
    with runtime.sessions.begin() as session:
        event, _ = EventRepository(session, org_id).record("CALL_COMPLETED", {"id": 1})
        event_id = event.id
    events = publisher(runtime, Recorder())
    # refan_pending sweeps every org: earlier tests on a shared database may leave theirs
    assert events.refan_pending(older_than=timedelta(0)) >= 1
    assert events.refan_pending(older_than=timedelta(0)) == 0
    events.fan_out(org_id, event_id)  # a second run of the same fan-out adds nothing
    assert laned_for(runtime, org_id) == 1


@pytest.mark.parametrize(
    ("org", "type_", "data", "field"),
    [
        ("missing-org", "QR_SCANNED", {}, "org_id"),
        (None, "has spaces", {}, "type"),
        (None, "QR_SCANNED", {"blob": "x" * 2000}, "data"),
        (None, "QR_SCANNED", ["not", "an", "object"], "data"),
    ],
)
def test_bad_events_are_refused_naming_the_field(
    runtime: Runtime, org_id: str, org: str | None, type_: str, data: object, field: str
) -> None:
    """Unknown orgs, malformed types, oversize or non-object data are refused by field."""
    with pytest.raises(InvalidEventError) as caught:
        publisher(runtime, Recorder()).publish(org or org_id, type_, data)  # type: ignore[arg-type]
    assert [e.field for e in caught.value.errors] == [field]
    assert queued(runtime) == 0


def test_a_target_answering_an_invalid_job_does_not_block_others(
    runtime: Runtime, org_id: str
) -> None:
    """A refused fan-out job is counted and logged; the other targets' jobs still go out."""

    def broken(session: Session, event: Event) -> Sequence[FanoutJob]:
        return [FanoutJob(key="broken", job={"kind": "action", "provider": "nope"})]

    published = publisher(runtime, broken, Recorder()).publish(org_id, "QR_SCANNED", {})
    assert published.jobs == 1 and queued(runtime) == 1
