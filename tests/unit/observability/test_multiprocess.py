"""Preparing prometheus-client's multiprocess directory for a worker host."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import REGISTRY, values

from switchyard.observability import exposition

CHILD = """
import sys
from switchyard.observability.exposition import use_multiprocess_values
use_multiprocess_values()
from contract.metrics import JOBS_STARTED
JOBS_STARTED.labels("action", "action", "slack").inc(int(sys.argv[1]))
"""


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever the test switches on is switched back off for the rest of the session."""
    monkeypatch.delenv(exposition.MULTIPROC_VAR, raising=False)
    monkeypatch.setattr(values, "ValueClass", values.ValueClass)


def test_stale_sample_files_are_removed_and_nothing_else(isolated: None, tmp_path: Path) -> None:
    """A restart must not add the previous run's counts; other files are not ours to delete."""
    (tmp_path / "counter_123.db").write_bytes(b"old")
    (tmp_path / "notes.txt").write_text("keep")
    assert exposition.prepare_multiprocess_dir(tmp_path) == tmp_path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]
    assert exposition.multiprocess_dir() == tmp_path


def test_without_a_path_a_fresh_directory_is_made(isolated: None) -> None:
    """The default is a new temporary directory, exported for the worker processes."""
    path = exposition.prepare_multiprocess_dir()
    assert path.is_dir() and list(path.iterdir()) == []
    assert exposition.multiprocess_dir() == path
    path.rmdir()


def test_the_registry_sums_every_process(
    isolated: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes' counts are exposed as one sum; single-process mode uses REGISTRY."""
    assert exposition.metrics_registry() is REGISTRY
    monkeypatch.setenv(exposition.MULTIPROC_VAR, str(tmp_path))
    for amount in ("2", "3"):
        subprocess.run([sys.executable, "-c", CHILD, amount], check=True)
    registry = exposition.metrics_registry()
    labels = {"queue": "action", "kind": "action", "provider": "slack"}
    assert registry.get_sample_value("switchyard_jobs_started_total", labels) == 5
