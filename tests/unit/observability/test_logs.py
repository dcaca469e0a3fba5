"""JSON logs carry the fields of the job being processed."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import dramatiq
import pytest
from dramatiq.broker import MessageProxy

from switchyard.logs import JsonFormatter, configure_logging
from switchyard.settings import load_settings
from workers.log_context import JobLogContext, bind_log_fields, log_fields


def record(message: str, **extra: object) -> logging.LogRecord:
    return logging.makeLogRecord(
        {"name": "switchyard.jobs", "levelname": "INFO", "msg": message, **extra}
    )


def test_a_json_line_has_time_level_logger_and_message() -> None:
    """Each record is one JSON object with the basic fields."""
    entry = json.loads(JsonFormatter().format(record("hello %s", args=("there",))))
    assert entry["message"] == "hello there"
    assert entry["level"] == "INFO"
    assert entry["logger"] == "switchyard.jobs"
    assert entry["ts"].endswith("+00:00")


def test_job_fields_bound_by_the_middleware_appear_in_each_line() -> None:
    """Inside a job, lines carry its id and correlation id; after it, they do not."""
    message = MessageProxy(
        dramatiq.Message(
            queue_name="action",
            actor_name="run",
            args=(
                {
                    "id": "job-1",
                    "correlation_id": "req-9",
                    "kind": "action",
                    "provider": "slack",
                    "payload": {"secret": "x"},
                },
            ),
            kwargs={},
            options={},
        )
    )
    middleware = JobLogContext()
    middleware.before_process_message(None, message)  # type: ignore[arg-type]
    entry = json.loads(JsonFormatter().format(record("job started")))
    middleware.after_process_message(None, message)  # type: ignore[arg-type]
    assert entry["job_id"] == "job-1"
    assert entry["correlation_id"] == "req-9"
    assert entry["provider"] == "slack"
    assert "payload" not in entry and "secret" not in json.dumps(entry)
    assert log_fields() == {}


def test_extra_fields_are_kept() -> None:
    """``logger.info(..., extra={...})`` fields land in the object."""
    bind_log_fields(None)
    entry = json.loads(JsonFormatter().format(record("x", attempt=3)))
    assert entry["attempt"] == 3


def test_log_format_setting_is_validated(monkeypatch: pytest.MonkeyPatch) -> None:
    """SWITCHYARD_LOG_FORMAT accepts text or json only."""
    assert load_settings(_env_file=None, log_format="json").log_format == "json"
    with pytest.raises(Exception, match="SWITCHYARD_LOG_FORMAT"):
        load_settings(_env_file=None, log_format="xml")


def test_configure_logging_installs_the_json_formatter() -> None:
    """json mode puts a JsonFormatter on the root handler."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        configure_logging("INFO", "json")
        assert isinstance(root.handlers[0].formatter, JsonFormatter)
    finally:
        root.handlers[:], _ = saved
        root.setLevel(saved[1])


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Tests here reconfigure the root logger; put it back so later tests are unaffected."""
    handlers, level = logging.root.handlers[:], logging.root.level
    yield
    logging.root.handlers[:] = handlers
    logging.root.setLevel(level)


def emitted(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """Lines written to stderr by the configured handler."""
    return [line for line in capsys.readouterr().err.splitlines() if line]


def test_expected_job_failures_are_logged_once_without_payload(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Dramatiq's own failure line (holding the payload) is dropped: switchyard.jobs has one."""
    configure_logging("INFO", "json")
    message = dramatiq.Message(
        queue_name="action",
        actor_name="run",
        args=({"payload": {"email": "a@b.c"}},),
        kwargs={},
        options={},
    )
    thread = logging.getLogger("dramatiq.worker.WorkerThread")
    thread.info("Failed to process message %s with expected exception %s.", message, "Transient")
    thread.error("Failed to process message %s with unhandled exception.", message)
    [line] = emitted(capsys)
    assert "a@b.c" not in line and message.message_id in line


def test_payload_text_is_opt_in_at_debug(capsys: pytest.CaptureFixture[str]) -> None:
    """At DEBUG Dramatiq's lines pass untouched, payload included."""
    configure_logging("DEBUG", "text")
    message = dramatiq.Message(
        queue_name="action", actor_name="run", args=({"email": "a@b.c"},), kwargs={}, options={}
    )
    logging.getLogger("dramatiq.worker.WorkerThread").info(
        "Failed to process message %s with expected exception %s.", message, "Transient"
    )
    assert any("a@b.c" in line for line in emitted(capsys))


def test_api_access_lines_follow_the_json_format(capsys: pytest.CaptureFixture[str]) -> None:
    """uvicorn's access line becomes a JSON object with method, path and status fields, even
    after uvicorn's own logging config gave its loggers handlers of their own."""
    access = logging.getLogger("uvicorn.access")
    access.addHandler(logging.NullHandler())
    access.propagate = False
    configure_logging("INFO", "json")
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/healthz", "1.1", 200
    )
    [line] = emitted(capsys)
    entry = json.loads(line)
    assert (entry["method"], entry["path"], entry["status"]) == ("GET", "/healthz", 200)


def test_alembic_context_lines_are_dropped(capsys: pytest.CaptureFixture[str]) -> None:
    """Each process's schema check no longer logs Alembic's context lines."""
    configure_logging("INFO", "text")
    migration = logging.getLogger("alembic.runtime.migration")
    migration.info("Context impl PostgresqlImpl.")
    migration.info("Will assume transactional DDL.")
    migration.info("Running upgrade 0008 -> 0009")
    assert [line.split(": ", 1)[1] for line in emitted(capsys)] == ["Running upgrade 0008 -> 0009"]


def test_api_access_lines_survive_an_earlier_logging_config(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An access logger an earlier dictConfig disabled or levelled still logs through ours."""
    access = logging.getLogger("uvicorn.access")
    access.setLevel(logging.WARNING)
    access.disabled = True
    configure_logging("INFO", "json")
    access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/v1/jobs", "1.1", 201)
    [line] = emitted(capsys)
    assert json.loads(line)["path"] == "/v1/jobs"
