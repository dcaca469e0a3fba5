"""``switchyard scheduler``: run the periodic tasks (sync schedules, event re-fan-out)."""

from __future__ import annotations

import signal
import threading
from types import FrameType

from switchyard.cli.common import fail, runtime
from switchyard.cli.jobs import EMBEDDED_ENQUEUE
from switchyard.logs import configure_logging
from switchyard.scheduler import Scheduler, default_tasks


def scheduler() -> None:
    """Run the scheduler until SIGTERM or Ctrl-C; run several for availability."""
    with runtime() as rt:
        if rt.settings.embedded:
            fail(EMBEDDED_ENQUEUE)
        configure_logging(rt.settings.log_level, rt.settings.log_format)
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        Scheduler(default_tasks(rt)).run_forever(stop)
