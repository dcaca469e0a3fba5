"""DLQ selection parsing and the replay envelope, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.repositories.dead_jobs import DeadJobFilter
from switchyard.services.dead_jobs import (
    InvalidSelectionError,
    Selection,
    parse_time,
    replay_envelope,
    require_scope,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
STORED = {
    "id": "a" * 32,
    "kind": "action",
    "org_id": "org1",
    "provider": "hubspot",
    "connection": "main",
    "payload": {"action": "teleport", "input": {"to": "mars"}},
    "idempotency_key": "order-7",
    "priority": 7,
    "correlation_id": "corr-1",
    "created_at": "2026-11-20T10:00:00+00:00",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30m", NOW - timedelta(minutes=30)),
        ("2h", NOW - timedelta(hours=2)),
        ("7d", NOW - timedelta(days=7)),
        ("1w", NOW - timedelta(weeks=1)),
        ("45s", NOW - timedelta(seconds=45)),
        ("2026-11-01T09:00:00Z", datetime(2026, 11, 1, 9, tzinfo=UTC)),
        ("2026-11-01T10:00:00+01:00", datetime(2026, 11, 1, 9, tzinfo=UTC)),
    ],
)
def test_parse_time_accepts_iso_with_offset_and_durations_ago(
    text: str, expected: datetime
) -> None:
    """ISO 8601 with an offset is an instant; ``2h`` means two hours before now."""
    assert parse_time("since", text, NOW) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-11-01T09:00:00", "no UTC offset"),
        ("yesterday", "neither an ISO 8601 time"),
        ("2x", "neither an ISO 8601 time"),
        ("-2h", "neither an ISO 8601 time"),
        ("", "neither an ISO 8601 time"),
    ],
)
def test_parse_time_refuses_naive_and_garbage(text: str, message: str) -> None:
    """A naive time or an unknown form is refused, naming the field."""
    with pytest.raises(InvalidSelectionError) as exc:
        parse_time("until", text, NOW)
    [error] = exc.value.errors
    assert error.field == "until" and message in error.message


def test_replay_envelope_is_a_new_job_keeping_what_it_is_for() -> None:
    """Id, creation time and the original idempotency key go; the rest stays, plus a replay key."""
    job = replay_envelope(STORED, dead_job_id="d" * 32, replay_number=2)
    assert "id" not in job and "created_at" not in job
    assert job["idempotency_key"] == f"dlq-replay:{'d' * 32}:2"
    kept = {k: v for k, v in STORED.items() if k not in {"id", "created_at", "idempotency_key"}}
    assert {k: v for k, v in job.items() if k != "idempotency_key"} == kept


def test_replay_envelope_leaves_the_stored_envelope_alone() -> None:
    """Building the replay does not mutate the dead job's envelope."""
    before = dict(STORED)
    replay_envelope(STORED, dead_job_id="d" * 32, replay_number=1)
    assert before == STORED


def test_acting_on_everything_needs_all() -> None:
    """No ids and no filter is refused unless ``all`` is given; a bare limit is no filter."""
    for bare in (Selection(), Selection(limit=5)):
        with pytest.raises(InvalidSelectionError) as exc:
            require_scope(bare, everything=False, verb="replay")
        assert exc.value.errors[0].field == "all"
        require_scope(bare, everything=True, verb="replay")


@pytest.mark.parametrize(
    "narrowed", [Selection(ids=("x",)), Selection(where=DeadJobFilter(provider="slack"))]
)
def test_all_cannot_be_combined_with_ids_or_filters(narrowed: Selection) -> None:
    """``all`` with ids or a filter is contradictory and refused; without ``all`` it is fine."""
    with pytest.raises(InvalidSelectionError) as exc:
        require_scope(narrowed, everything=True, verb="purge")
    assert exc.value.errors[0].field == "all"
    require_scope(narrowed, everything=False, verb="purge")
