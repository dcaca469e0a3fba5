"""Imports flow downward only, as design.md draws the packages."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
OURS = {"switchyard", "producers", "workers", "providers", "storage"}
ALLOWED = {
    "providers": set(),
    "storage": set(),
    "workers": {"providers", "storage"},
    "producers": {"workers", "providers", "storage"},
    "switchyard": OURS - {"switchyard"},
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
        str(path.relative_to(ROOT)): sorted(imported_packages(path) - ALLOWED[package] - {package})
        for path in (ROOT / package).rglob("*.py")
    }
    assert {k: v for k, v in offenders.items() if v} == {}


def test_settings_are_read_only_by_the_composition_root() -> None:
    """Only switchyard/ touches os.environ or builds Settings."""
    readers = [
        str(path.relative_to(ROOT))
        for package in OURS - {"switchyard"}
        for path in (ROOT / package).rglob("*.py")
        if "os.environ" in path.read_text() or "load_settings" in path.read_text()
    ]
    assert readers == []
