"""Process-wide logging setup, called by the entry points (never at import elsewhere)."""

from __future__ import annotations

import logging
import sys

FORMAT = "%(asctime)s %(levelname)s %(process)d %(threadName)s %(name)s: %(message)s"


def configure_logging(level: str = "INFO") -> None:
    """Plain one-line records on stderr; library chatter kept at WARNING."""
    logging.basicConfig(level=level, format=FORMAT, stream=sys.stderr, force=True)
    for noisy in ("httpx", "httpcore", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
