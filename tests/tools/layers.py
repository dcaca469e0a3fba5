"""The package graph, checked: ``python -m tests.tools.layers`` prints which package imports
which and exits 1 on a back edge (an import running up or sideways against
:data:`ALLOWED`) or an import cycle between the modules of one package.

The layers, top to bottom (design.md)::

    switchyard (api, cli, console, the runtime builder...)
      -> switchyard.services
        -> producers -> workers      (producers never import workers)
          -> queueing, routes         (what both sides of the queue share)
            -> providers, storage
              (contract: the job contract and metric definitions, a leaf any package may use)

Every import counts for the layers, also one inside a function or under ``TYPE_CHECKING``
(imported late is still a dependency). Cycles are those Python would meet while importing:
module-level imports only, since an import inside a function (or for type checking only) is
the usual way to let two modules refer to each other. ``--root DIR`` checks another tree
laid out the same way (the tool's own tests).
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP_LEVEL = (
    "switchyard",
    "producers",
    "workers",
    "queueing",
    "routes",
    "providers",
    "storage",
    "contract",
)
SUBLAYERS = ("switchyard.services",)
"""Packages inside a top-level one that form a layer of their own."""
LEAF = frozenset({"contract"})
SHARED = frozenset({"queueing", "routes"})
"""Below producers and workers: what both sides of the queue share."""
BELOW_SERVICES = frozenset({"producers", "workers", "providers", "storage"}) | SHARED | LEAF
ALLOWED: Mapping[str, frozenset[str]] = {
    "contract": frozenset(),
    "providers": LEAF,
    "storage": LEAF,
    "queueing": LEAF,
    "routes": frozenset({"storage"}) | LEAF,
    "workers": frozenset({"providers", "storage"}) | SHARED | LEAF,
    "producers": frozenset({"providers", "storage"}) | SHARED | LEAF,  # never workers
    "switchyard.services": BELOW_SERVICES,
    "switchyard": BELOW_SERVICES | {"switchyard.services"},
}
"""What each package may import besides itself."""


@dataclass(frozen=True)
class Edge:
    """``source`` (a module) imports ``target`` (a module) at ``line``; ``late`` when inside
    a function or an ``if TYPE_CHECKING:`` block (not run when ``source`` is imported)."""

    source: str
    target: str
    line: int
    late: bool = False


def modules(root: Path) -> dict[str, Path]:
    """Every module of ours under ``root``, by dotted name (a package by its own name)."""
    found: dict[str, Path] = {}
    for top in TOP_LEVEL:
        for path in sorted((root / top).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[".".join(parts)] = path
    return found


def imports(root: Path) -> list[Edge]:
    """Every import between modules of ours, resolved to the module it loads."""
    known = modules(root)
    return [edge for name, path in known.items() for edge in _edges(name, path, known)]


def _edges(name: str, path: Path, known: Mapping[str, Path]) -> Iterator[Edge]:
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(), filename=str(path))
    for node, late in _import_nodes(tree, late=False):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _nearest(alias.name, known)
                if target is not None:
                    yield Edge(name, target, node.lineno, late)
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(name, is_package, node.module, node.level)
            for alias in node.names:
                target = _nearest(f"{base}.{alias.name}", known) if base else None
                if target is not None:
                    yield Edge(name, target, node.lineno, late)


def _import_nodes(node: ast.AST, *, late: bool) -> Iterator[tuple[ast.AST, bool]]:
    """Import statements under ``node``, each with whether it runs only later."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.Import | ast.ImportFrom):
            yield child, late
        elif _type_checking_only(child):
            assert isinstance(child, ast.If)
            for statement in child.body:
                yield from _import_nodes(ast.Module(body=[statement], type_ignores=[]), late=True)
            for statement in child.orelse:
                yield from _import_nodes(ast.Module(body=[statement], type_ignores=[]), late=late)
        else:
            deferred = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from _import_nodes(child, late=late or deferred)


def _type_checking_only(node: ast.AST) -> bool:
    if not isinstance(node, ast.If):
        return False
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _absolute(name: str, is_package: bool, module: str | None, level: int) -> str:
    if level == 0:
        return module or ""
    package = name.split(".") if is_package else name.split(".")[:-1]
    anchor = package[: len(package) - (level - 1)]
    return ".".join([*anchor, *([module] if module else [])])


def _nearest(dotted: str, known: Mapping[str, Path]) -> str | None:
    """The module ``dotted`` loads: itself, or the longest known prefix (a name imported
    from a module resolves to that module)."""
    parts = dotted.split(".")
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in known:
            return candidate
    return None


def package_of(module: str) -> str:
    """The layer a module belongs to: a sublayer, else its top-level package."""
    for sub in SUBLAYERS:
        if module == sub or module.startswith(sub + "."):
            return sub
    return module.split(".")[0]


def package_graph(edges: Iterable[Edge]) -> dict[str, set[str]]:
    """Which package imports which (itself left out)."""
    edges = list(edges)
    present = {package_of(edge.source) for edge in edges}
    graph: dict[str, set[str]] = {package: set() for package in ALLOWED if package in present}
    for edge in edges:
        source, target = package_of(edge.source), package_of(edge.target)
        if source != target:
            graph.setdefault(source, set()).add(target)
    return graph


def back_edges(edges: Iterable[Edge]) -> list[Edge]:
    """Imports a package may not make (:data:`ALLOWED`)."""
    return [
        edge
        for edge in edges
        if package_of(edge.source) != package_of(edge.target)
        and package_of(edge.target) not in ALLOWED.get(package_of(edge.source), frozenset())
    ]


def cycles(edges: Iterable[Edge]) -> list[list[str]]:
    """Import-time cycles among the modules of one package (each as its sorted modules)."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        same = package_of(edge.source) == package_of(edge.target)
        if same and edge.source != edge.target and not edge.late:
            graph.setdefault(edge.source, set()).add(edge.target)
            graph.setdefault(edge.target, set())
    return sorted(sorted(c) for c in _components(graph) if len(c) > 1)


def _components(graph: Mapping[str, set[str]]) -> list[list[str]]:
    """Strongly connected components (Tarjan, iterative: deep graphs stay off the stack)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    found.append(component)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return found


def report(root: Path) -> tuple[str, bool]:
    """The printed graph and whether it holds (no back edge, no cycle)."""
    edges = imports(root)
    bad, loops = back_edges(edges), cycles(edges)
    lines = ["package graph (-> imports):"]
    for package, targets in package_graph(edges).items():
        shown = ", ".join(sorted(targets)) or "(nothing of ours)"
        lines.append(f"  {package} -> {shown}")
    for edge in bad:
        where = f"{edge.source} (line {edge.line})"
        lines.append(f"BACK EDGE: {where} imports {edge.target}")
    for loop in loops:
        lines.append("CYCLE: " + " <-> ".join(loop))
    lines.append("ok: no back edges, no cycles" if not (bad or loops) else "FAILED")
    return "\n".join(lines), not (bad or loops)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.tools.layers", description=__doc__)
    parser.add_argument("--root", type=Path, default=ROOT, help="Tree to check.")
    args = parser.parse_args(argv)
    text, holds = report(args.root)
    print(text)
    return 0 if holds else 1


if __name__ == "__main__":
    sys.exit(main())
