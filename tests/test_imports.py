"""The layering of `indexer/`: no import cycle between its units, and a core that imports nothing.

A unit is a subpackage (`indexer/fulltext/`) or a top-level module (`indexer/store.py`). Every
import is read with `ast`, relative or absolute, at module level or inside a function (an import
inside a function hides a cycle from Python at import time, not from the design).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "indexer"


def _unit(module: str) -> str | None:
    """The unit of a dotted module name under `indexer` (None for `indexer` itself or outside it)."""
    parts = module.split(".")
    if parts[0] != "indexer" or len(parts) < 2:
        return None
    return parts[1]


def _module_name(path: Path, package: Path) -> str:
    relative = path.relative_to(package.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imported(path: Path, package_dir: Path) -> set[str]:
    """Every `indexer` module (or name within one) this file imports, as absolute dotted names."""
    name = _module_name(path, package_dir)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            # `from . import stats_json` names a module or a name in the package: the unit is
            # the same either way, except from `indexer` itself, where it names a unit.
            found.add(module)
            if module == "indexer":
                found.update(f"indexer.{alias.name}" for alias in node.names)
    return {m for m in found if m.split(".")[0] == "indexer"}


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """unit → the other units it imports."""
    graph: dict[str, set[str]] = {}
    for path in sorted(package.rglob("*.py")):
        unit = _unit(_module_name(path, package))
        if unit is None:
            continue
        targets = {_unit(m) for m in _imported(path, package)} - {None, unit}
        graph.setdefault(unit, set()).update(targets)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one unit (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _path(graph: dict[str, set[str]], component: list[str]) -> str:
    """One cycle through the component's first unit, as `a → b → a`, to name in the failure."""
    start, members = component[0], set(component)
    trail, seen = [start], {start}

    def walk(node: str) -> bool:
        for nxt in sorted(graph[node] & members):
            if nxt == start and len(trail) > 1:
                trail.append(start)
                return True
            if nxt not in seen:
                seen.add(nxt)
                trail.append(nxt)
                if walk(nxt):
                    return True
                trail.pop()
        return False

    walk(start)
    return " → ".join(trail)


def test_no_cycle_between_units():
    graph = import_graph()
    found = cycles(graph)
    assert not found, "import cycles in indexer/: " + "; ".join(
        f"{{{', '.join(c)}}} e.g. {_path(graph, c)}" for c in found)


def test_core_imports_nothing_else_of_nianbao():
    graph = import_graph()
    assert "core" in graph
    assert graph["core"] == set(), f"indexer/core imports {sorted(graph['core'])}"


def test_the_layers_hold_where_a_cycle_would_not_show():
    """The engines are siblings (hybrid fuses them in the query layer), the store knows nothing of
    the parser or the statistics (indexing joins them), and statistics stay at the parse level."""
    graph = import_graph()
    assert "fulltext" not in graph["semantic"] and "semantic" not in graph["fulltext"]
    assert graph["store"] <= {"core", "ids", "normalize"}
    assert not graph["stats"] & {"store", "fulltext", "semantic", "query", "fields", "pages"}


def test_the_reader_sees_every_kind_of_import(tmp_path):
    """Relative, absolute, from-package and inside-a-function imports all count, and a cycle is named."""
    package = tmp_path / "indexer"
    (package / "a").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a" / "__init__.py").write_text("from .inner import x\n")
    (package / "a" / "inner.py").write_text("def f():\n    from ..b import y\n")
    (package / "b.py").write_text("import indexer.c\n")
    (package / "c.py").write_text("from indexer import a\n")
    (package / "d.py").write_text("from . import c\n")
    graph = import_graph(package)
    assert graph == {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"c"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert _path(graph, ["a", "b", "c"]) == "a → b → c → a"


@pytest.mark.parametrize("source, unit", [("from ..store import Store\n", "store"), ("import indexer.fields\n", "fields")])
def test_core_importing_indexer_fails(tmp_path, source, unit):
    package = tmp_path / "indexer"
    (package / "core").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "core" / "__init__.py").write_text(source)
    assert import_graph(package)["core"] == {unit}
