"""Process-wide logging setup, called by the entry points (never at import elsewhere).

The API's access lines (uvicorn) go through the same handler, so they follow the format too.

Two formats: ``text`` (one readable line) and ``json`` (``SWITCHYARD_LOG_FORMAT=json``: one
JSON object per line for log shippers), the latter carrying the identifying fields of the
job being processed (``job_id``, ``correlation_id``, ``kind``, ``provider``, ``queue``) that
``workers.log_context`` binds.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from switchyard.log_throttle import install_outage_throttle
from workers.log_context import log_fields

FORMAT = "%(asctime)s %(levelname)s %(process)d %(threadName)s %(name)s: %(message)s"
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, job fields, extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": record.process,
            "thread": record.threadName,
        }
        entry.update(log_fields())
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            entry.update(zip(_ACCESS_FIELDS, record.args, strict=False))
        entry.update((key, value) for key, value in vars(record).items() if key not in _STANDARD)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")
_EXPECTED_FAILURE = "Failed to process message %s with expected exception %s."
_UNHANDLED_FAILURE = "Failed to process message %s with unhandled exception."


class DramatiqFailureFilter(logging.Filter):
    """One line per failure, and no job payload at INFO.

    Dramatiq logs each failed attempt with the message's text, which holds the job's
    payload (possibly personal data), while ``switchyard.jobs`` already logs one structured
    line per outcome. Expected failures are dropped; unhandled ones (bugs, with their
    traceback) keep only the job id. At DEBUG everything passes untouched (opt-in).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.msg == _EXPECTED_FAILURE:
            return False
        if record.msg == _UNHANDLED_FAILURE and isinstance(record.args, tuple) and record.args:
            record.args = (getattr(record.args[0], "message_id", "?"),)
            record.msg = "Failed to process job %s with unhandled exception."
        return True


class StartupNoiseFilter(logging.Filter):
    """Drops Alembic's "Context impl …" / "Will assume … DDL" lines, logged at every schema
    check each process makes at start; its "Running upgrade" lines stay."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name != "alembic.runtime.migration":
            return True
        message = str(record.msg)
        return not message.startswith(("Context impl", "Will assume"))


def configure_logging(level: str = "INFO", log_format: str = "text") -> None:
    """Records on stderr in the chosen format; library chatter kept at WARNING; repeats
    collapsed while Redis or the database is down (:mod:`switchyard.log_throttle`)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(FORMAT))
    install_outage_throttle(handler)
    handler.addFilter(StartupNoiseFilter())
    if level.upper() != "DEBUG":
        handler.addFilter(DramatiqFailureFilter())
    logging.basicConfig(level=level, handlers=[handler], force=True)
    for noisy in ("httpx", "httpcore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    for server in ("uvicorn", "uvicorn.access", "uvicorn.error"):  # through our handler only
        logger = logging.getLogger(server)
        logger.handlers.clear()
        logger.propagate = True
        # An earlier dictConfig (uvicorn's own, started in-process) may have disabled or
        # levelled these loggers; ours decides.
        logger.disabled = False
        logger.setLevel(logging.NOTSET)
