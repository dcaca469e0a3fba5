"""The contract package loads alone: building and counting a job pulls in no worker runtime."""

from __future__ import annotations

import subprocess
import sys

from tests.unit.architecture.test_imports import ROOT


def test_importing_the_contract_loads_no_package_of_ours_nor_dramatiq() -> None:
    """A fresh interpreter importing every contract module has loaded neither another
    first-party package nor Dramatiq or Redis."""
    probe = (
        "import sys, pkgutil, importlib, contract\n"
        "for m in pkgutil.iter_modules(contract.__path__): importlib.import_module('contract.' + m.name)\n"
        "roots = {name.split('.')[0] for name in sys.modules}\n"
        "print(sorted(roots & {'workers', 'producers', 'switchyard', 'providers', 'storage',"
        " 'dramatiq', 'redis'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"
