"""Imports flow downward only, as design.md draws the packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
OURS = {"switchyard", "producers", "workers", "providers", "storage", "contract"}
ALLOWED = {
    "contract": set(),  # the job contract and metric definitions: a leaf
    "providers": set(),
    "storage": set(),
    "workers": {"contract", "providers", "storage"},
    "producers": {"contract", "providers", "storage"},  # never workers
    "switchyard": OURS - {"switchyard"},
}
PENDING = {
    # Producer modules still importing workers (issue #18), each to be removed, never added:
    "producers/door.py": {"workers"},  # the action registry's input models
    "producers/enqueue.py": {"workers"},  # lanes and job state
    "producers/inbound/receiver.py": {"workers"},  # the Redis key map
    "producers/routes.py": {"workers"},  # an operator use case, bound for services/
}


def imported_packages(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found & OURS


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_package_imports_only_what_lies_below_it(package: str) -> None:
    """No module of a package imports a package above it (or beside it, unless allowed)."""
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            imported_packages(path)
            - ALLOWED[package]
            - {package}
            - PENDING.get(str(path.relative_to(ROOT)), set())
        )
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("module", sorted(PENDING))
def test_pending_exceptions_are_still_needed(module: str) -> None:
    """An exception to the layering is dropped from PENDING as soon as its import goes."""
    path = ROOT / module
    assert path.exists() and PENDING[module] <= imported_packages(path), f"drop {module}"


def test_settings_are_read_only_by_the_composition_root() -> None:
    """Only switchyard/ touches os.environ or builds Settings."""
    readers = [
        str(path.relative_to(ROOT))
        for package in OURS - {"switchyard"}
        for path in (ROOT / package).rglob("*.py")
        if "os.environ" in path.read_text() or "load_settings" in path.read_text()
    ]
    assert readers == []
