"""A producer loads alone: importing every producers module pulls in no worker module."""

from __future__ import annotations

import subprocess
import sys

from tests.unit.architecture.test_imports import ROOT


def test_importing_every_producer_module_loads_no_worker_module() -> None:
    """A fresh interpreter importing every module under producers/ has loaded nothing of
    workers/ (what producers need of the queue comes from queueing/ and routes/)."""
    probe = (
        "import sys, pkgutil, importlib, producers\n"
        "for m in pkgutil.walk_packages(producers.__path__, 'producers.'):"
        " importlib.import_module(m.name)\n"
        "print(sorted(n for n in sys.modules if n == 'workers' or n.startswith('workers.')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
