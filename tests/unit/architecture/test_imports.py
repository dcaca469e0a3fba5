"""Imports flow downward only, as design.md draws the packages (see :mod:`tests.tools.layers`,
which anyone can run: ``python -m tests.tools.layers``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.tools import layers

ROOT = layers.ROOT
OURS = set(layers.TOP_LEVEL)


@pytest.fixture(scope="module")
def edges() -> list[layers.Edge]:
    return layers.imports(ROOT)


@pytest.mark.parametrize("package", sorted(layers.ALLOWED))
def test_package_imports_only_what_lies_below_it(package: str, edges: list[layers.Edge]) -> None:
    """No module of a package imports a package above it (or beside it, unless allowed)."""
    offenders = [
        f"{e.source}:{e.line} imports {e.target}"
        for e in layers.back_edges(edges)
        if layers.package_of(e.source) == package
    ]
    assert offenders == []


def test_no_import_cycles_inside_a_package(edges: list[layers.Edge]) -> None:
    """The modules of each package import one another without a cycle."""
    assert layers.cycles(edges) == []


def test_services_never_take_the_runtime(edges: list[layers.Edge]) -> None:
    """Services get explicit dependencies: none imports the runtime builder or a front end."""
    above = [e for e in edges if layers.package_of(e.source) == "switchyard.services"]
    assert [
        e
        for e in above
        if e.target.startswith("switchyard.")
        and layers.package_of(e.target) != "switchyard.services"
    ] == []


def test_producers_never_import_workers(edges: list[layers.Edge]) -> None:
    """No producers module imports a workers module, not even late or for type checking."""
    leaks = [
        f"{e.source}:{e.line} imports {e.target}"
        for e in edges
        if layers.package_of(e.source) == "producers" and layers.package_of(e.target) == "workers"
    ]
    assert leaks == []


def test_the_check_passes_on_this_tree(capsys: pytest.CaptureFixture[str]) -> None:
    """``python -m tests.tools.layers`` prints the package graph and exits 0 here."""
    assert layers.main([]) == 0
    out = capsys.readouterr().out
    services = next(line for line in out.splitlines() if "switchyard.services ->" in line)
    assert "producers" in services and "switchyard" not in services.split("->")[1]
    assert out.rstrip().endswith("ok: no back edges, no cycles")


def test_the_check_fails_on_a_back_edge_and_a_cycle(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A synthetic tree with storage importing workers and two modules importing each other
    fails, naming both; a cycle through a function-level import alone does not."""
    files = {
        "storage/__init__.py": "",
        "storage/models.py": "from workers.actors import run\n",
        "workers/__init__.py": "",
        "workers/actors.py": "import workers.middleware\n",
        "workers/middleware.py": "from workers.actors import run\n",
        "providers/__init__.py": "",
        "providers/a.py": "from providers import b\n",
        "providers/b.py": "def late():\n    from providers import a\n",
    }
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert layers.main(["--root", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "BACK EDGE: storage.models (line 1) imports workers.actors" in out
    assert "CYCLE: workers.actors <-> workers.middleware" in out
    assert out.count("CYCLE") == 1


def test_settings_are_read_only_by_the_composition_root() -> None:
    """Only switchyard/ touches os.environ or builds Settings."""
    readers = [
        str(path.relative_to(ROOT))
        for package in OURS - {"switchyard"}
        for path in (ROOT / package).rglob("*.py")
        if "os.environ" in path.read_text() or "load_settings" in path.read_text()
    ]
    assert readers == []
