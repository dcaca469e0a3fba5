"""Bounded logs while Redis or the database is down: repeats collapse into one line per period.

Without it, one worker process with one thread wrote 879 lines in 60 s of Redis outage:
each of its ten Dramatiq consumers logs a CRITICAL connection error and a "restarting" line
every 3 s, and the heartbeat a full traceback per beat. Nothing in those repeats is news.

:class:`OutageLogThrottle` is a handler filter. A record *reports an outage* when its
exception, or an exception among its arguments, is one of
:data:`switchyard.unreachable.UNREACHABLE`. Its logger's family (the name without a
``(...)`` suffix, so Dramatiq's ten ``ConsumerThread(<queue>)`` loggers are one family) is
then *down* until it has reported no outage for one period. While a family is down, the
first record of each kind (level and message template) passes on one line — the outage's
traceback only when the logger is at DEBUG — and repeats are dropped; once per period the
next repeat passes instead, saying how many were dropped. Records of families that are not
down pass untouched. So a process writes a few lines per family when an outage begins, then
one line per family per period (default 10 s), and
``switchyard_log_records_suppressed_total{source}`` counts what was dropped.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from contract.metrics import LOG_RECORDS_SUPPRESSED
from switchyard.unreachable import describe, unreachable

PERIOD_SECONDS = 10.0
_INSTANCE_SUFFIX = re.compile(r"\(.*\)$")


@dataclass
class _Outage:
    """One family's outage: what it has already shown, and what it dropped since it last
    reported."""

    source: str
    last_seen: float
    last_report: float
    shown: set[tuple[int, str]] = field(default_factory=set)
    dropped: int = 0


class OutageLogThrottle(logging.Filter):
    """Collapse repeated records of a logger family whose dependency is down (see module)."""

    def __init__(
        self, period_seconds: float = PERIOD_SECONDS, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.period = period_seconds
        self._clock = clock
        self._outages: dict[str, _Outage] = {}
        self._lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        family = _INSTANCE_SUFFIX.sub("", record.name)
        error = _outage_error(record)
        with self._lock:
            outage = self._outage(family, error)
            if outage is None:
                return True
            kind = (record.levelno, str(record.msg))
            if kind not in outage.shown:
                outage.shown.add(kind)
                _one_line(record, error)
                return True
            return self._repeat(record, error, outage)

    def _outage(self, family: str, error: BaseException | None) -> _Outage | None:
        """The family's current outage (begun or extended by ``error``), or None."""
        now = self._clock()
        outage = self._outages.get(family)
        if outage is not None and now - outage.last_seen > self.period:
            outage = None  # quiet for a period: that outage is over
            del self._outages[family]
        source = unreachable(error) if error is not None else None
        if source is None:
            return outage
        if outage is None:
            outage = self._outages[family] = _Outage(source, now, now)
        outage.last_seen = now
        return outage

    def _repeat(
        self, record: logging.LogRecord, error: BaseException | None, outage: _Outage
    ) -> bool:
        now = self._clock()
        if now - outage.last_report < self.period:
            outage.dropped += 1
            LOG_RECORDS_SUPPRESSED.labels(outage.source).inc()
            return False
        _one_line(record, error)
        record.msg = f"{record.msg} [still failing; {outage.dropped} similar lines dropped in the last {now - outage.last_report:.0f} s]"
        outage.last_report, outage.dropped = now, 0
        return True


def _outage_error(record: logging.LogRecord) -> BaseException | None:
    """The outage exception a record carries (as its exception or an argument), if any."""
    candidates: list[object] = []
    if record.exc_info and record.exc_info[1] is not None:
        candidates.append(record.exc_info[1])
    if isinstance(record.args, tuple):
        candidates.extend(record.args)
    for candidate in candidates:
        if isinstance(candidate, BaseException) and unreachable(candidate) is not None:
            return candidate
    return None


def _one_line(record: logging.LogRecord, error: BaseException | None) -> None:
    """Fold the record's message and arguments into one line; keep the traceback of an
    outage only when its logger is at DEBUG (it says nothing but "connection refused")."""
    record.msg, record.args = record.getMessage(), None
    if error is None or logging.getLogger(record.name).isEnabledFor(logging.DEBUG):
        return
    if record.exc_info is not None:
        record.msg = f"{record.msg} ({describe(error)})"
        record.exc_info, record.exc_text = None, None


def install_outage_throttle(handler: logging.Handler) -> None:
    """Filter ``handler``'s records through one :class:`OutageLogThrottle`."""
    handler.addFilter(OutageLogThrottle())
