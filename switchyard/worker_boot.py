"""The module Dramatiq's worker processes import: it builds this process's runtime.

``switchyard worker`` hands this module to Dramatiq's CLI, which imports it in every worker
process; building the broker here, at import, is the one sanctioned place for that (the
composition root of a worker process). A failure to build it (database, Redis, key ring,
settings) ends the process with one line saying what to fix, not a traceback per process.
"""

from __future__ import annotations

from switchyard.failures import fatal
from switchyard.logs import configure_logging
from switchyard.observability.exposition import use_multiprocess_values
from switchyard.runtime import build_runtime
from switchyard.settings import load_settings

use_multiprocess_values()  # `switchyard worker --metrics-port` set the directory for us
try:
    _settings = load_settings()
except Exception as exc:
    fatal(exc, code=3)
configure_logging(_settings.log_level, _settings.log_format)
try:
    runtime = build_runtime(_settings)
    broker = runtime.worker_broker
except Exception as exc:
    fatal(exc, _settings, code=3)
