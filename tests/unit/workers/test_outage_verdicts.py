"""An outage of our own Redis or PostgreSQL is not the job's fault: it waits, spending nothing."""

from __future__ import annotations

import psycopg
import pytest
from dramatiq.errors import ActorNotFound
from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import IntegrityError, OperationalError

from workers.errors import TransientJobError, Verdict, error_class_of, verdict_for


def pg_error(exc: Exception) -> OperationalError:
    return OperationalError("SELECT 1", {}, exc)


@pytest.mark.parametrize(
    "exc",
    [
        RedisConnectionError("Connection refused"),
        BusyLoadingError("Redis is loading the dataset in memory"),
        pg_error(psycopg.OperationalError("connection refused")),
        pg_error(psycopg.errors.AdminShutdown("terminating connection")),
    ],
)
def test_unreachable_redis_or_postgresql_means_wait(exc: Exception) -> None:
    """Connection failures to our own stores get the WAIT verdict (no attempt spent)."""
    assert verdict_for(exc) is Verdict.WAIT


def test_an_outage_behind_a_handlers_own_error_still_means_wait() -> None:
    """A handler that wraps the outage in its own error does not turn it into a retry."""
    try:
        try:
            raise RedisConnectionError("Connection reset by peer")
        except RedisConnectionError as cause:
            raise TransientJobError("could not read the cursor") from cause
    except TransientJobError as wrapped:
        assert verdict_for(wrapped) is Verdict.WAIT


def test_database_errors_that_are_not_outages_keep_their_verdict() -> None:
    """A constraint violation is the job's problem: retried as before, not waited on."""
    error = IntegrityError("INSERT", {}, psycopg.errors.UniqueViolation("duplicate key"))
    assert verdict_for(error) is Verdict.RETRY


def test_a_message_for_an_unknown_actor_is_dead_at_once() -> None:
    """No deployment change makes an unknown actor appear mid-retry: dead-letter it."""
    assert verdict_for(ActorNotFound("run_nothing")) is Verdict.DEAD
    assert error_class_of(ActorNotFound("run_nothing")) == "unknown_actor"
