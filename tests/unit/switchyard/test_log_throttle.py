"""The outage log throttle: repeats of a down dependency collapse into one line per period."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy.exc import OperationalError

from switchyard.log_throttle import OutageLogThrottle
from switchyard.logs import configure_logging

REFUSED = RedisConnectionError("Error 111 connecting to 127.0.0.1:6390. Connection refused.")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Collected(logging.Handler):
    """The records that got through the throttle, formatted as the stream handler would."""

    def __init__(self, throttle: OutageLogThrottle) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(throttle)
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def out(clock: Clock) -> Iterator[Collected]:
    handler = Collected(OutageLogThrottle(period_seconds=10, clock=clock))
    root = logging.getLogger("throttled")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    root.propagate = False
    yield handler
    root.removeHandler(handler)
    root.propagate = True


def consumer_error(queue: str) -> None:
    """What a Dramatiq consumer logs when Redis refuses it."""
    logger = logging.getLogger(f"throttled.ConsumerThread({queue})")
    logger.critical("Consumer encountered a connection error: %s", REFUSED)
    logger.info("Restarting consumer in %0.2f seconds.", 3.0)


def heartbeat_failure() -> None:
    """What the heartbeat logs: a warning with the outage's traceback."""
    try:
        raise REFUSED
    except RedisConnectionError:
        logging.getLogger("throttled.heartbeat").warning("heartbeat failed", exc_info=True)


def test_repeats_within_a_period_are_dropped(out: Collected, clock: Clock) -> None:
    """Ten consumers failing every 3 s for 9 s log each kind of line once."""
    for _ in range(4):
        for queue in ("action", "sync", "deliver", "refresh", "inbound"):
            consumer_error(queue)
        clock.now += 3
    assert out.lines == [
        "throttled.ConsumerThread(action) CRITICAL Consumer encountered a connection error: "
        f"{REFUSED}",
        "throttled.ConsumerThread(action) INFO Restarting consumer in 3.00 seconds.",
    ]


def test_one_line_per_period_says_how_many_were_dropped(out: Collected, clock: Clock) -> None:
    """Past a period, the next repeat passes with the count of lines dropped since."""
    consumer_error("action")
    clock.now += 5
    consumer_error("sync")
    clock.now += 6
    consumer_error("action")
    assert len(out.lines) == 3
    assert out.lines[2].endswith("[still failing; 2 similar lines dropped in the last 11 s]")


def test_outage_tracebacks_become_one_line(out: Collected) -> None:
    """The outage's traceback is replaced by its class and message."""
    heartbeat_failure()
    heartbeat_failure()
    assert out.lines == [
        f"throttled.heartbeat WARNING heartbeat failed (ConnectionError: {REFUSED})"
    ]


def test_tracebacks_are_kept_at_debug(out: Collected) -> None:
    """With the logger at DEBUG, the first outage record keeps its traceback."""
    logging.getLogger("throttled").setLevel(logging.DEBUG)
    heartbeat_failure()
    assert "Traceback (most recent call last)" in out.lines[0]


def test_other_loggers_pass_untouched_during_an_outage(out: Collected) -> None:
    """Only the family reporting the outage is throttled: other records all pass."""
    consumer_error("action")
    for _ in range(3):
        logging.getLogger("throttled.jobs").info("job %s succeeded", "j1")
    assert out.lines.count("throttled.jobs INFO job j1 succeeded") == 3


def test_repeats_pass_when_nothing_is_down(out: Collected) -> None:
    """Without an outage, repeated records are not the throttle's business."""
    for _ in range(5):
        logging.getLogger("throttled.ConsumerThread(action)").info("Restarting consumer.")
    assert len(out.lines) == 5


def test_a_family_quiet_for_a_period_is_up_again(out: Collected, clock: Clock) -> None:
    """After a period without outage records, a family's records pass again, and a new
    outage is announced anew."""
    consumer_error("action")
    clock.now += 11
    logging.getLogger("throttled.ConsumerThread(action)").info("Restarting consumer in 3.00 s")
    logging.getLogger("throttled.ConsumerThread(action)").info("Restarting consumer in 3.00 s")
    consumer_error("action")
    assert len(out.lines) == 6


def test_database_outages_are_throttled_too(out: Collected) -> None:
    """SQLAlchemy's OperationalError (PostgreSQL down) collapses like a Redis outage."""
    error = OperationalError("SELECT 1", {}, Exception("connection refused"))
    for _ in range(3):
        logging.getLogger("throttled.scheduler").error("tick failed: %s", error)
    assert len(out.lines) == 1


def test_the_logging_setup_installs_the_throttle() -> None:
    """configure_logging puts the throttle on the handler it installs."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("INFO")
        assert any(isinstance(f, OutageLogThrottle) for f in root.handlers[0].filters)
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])
