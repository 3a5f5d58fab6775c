"""The import graph of the package: no cycles, and the journal stays a leaf.

Every ``import`` and ``from ... import`` statement of every module counts, wherever it
stands (module level, inside a function, under ``if TYPE_CHECKING``). ``from a import b``
is an edge to ``a.b`` when that is a module, else to ``a``. Importing a module also runs
its parent packages' ``__init__``, but those are not edges here: a package re-exporting
its submodules would otherwise always be a cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = "bayesopt"
ROOT = Path(__file__).resolve().parents[1] / PACKAGE


def _modules() -> dict[str, Path]:
    """Every module of the package, by dotted name (a package by its ``__init__``)."""
    out = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = list(path.relative_to(ROOT.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that module ``name`` imports."""
    parts = name.split(".")
    is_package = path.name == "__init__.py"
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: `from . import x` in `a.b.c` is `from a.b import x`
                keep = len(parts) - node.level + is_package
                base = ".".join([*parts[:keep], *([base] if base else [])])
            subs = [f"{base}.{alias.name}" for alias in node.names]
            targets = [sub if sub in modules else base for sub in subs]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `a.b.name` -> the module `a.b`
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle through each strongly connected component with more than one module
    (Tarjan's algorithm, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
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
                if len(component) > 1:
                    components.append(component)
    return [_a_cycle(graph, set(c)) for c in components]


def _a_cycle(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A concrete cycle inside a strongly connected component, as a path back to its start."""
    start = min(component)
    paths = {start: [start]}
    todo = [start]
    while todo:
        node = todo.pop(0)
        for child in sorted(graph[node] & component):
            if child == start:
                return [*paths[node], start]
            if child not in paths:
                paths[child] = [*paths[node], child]
                todo.append(child)
    raise AssertionError("not a strongly connected component")  # pragma: no cover


def test_the_walker_sees_the_package():
    graph = _graph()
    assert {"bayesopt", "bayesopt.asktell", "bayesopt.history", "bayesopt.journal"} <= set(graph)
    assert "bayesopt.history" in graph["bayesopt.asktell"]
    assert "bayesopt.asktell" in graph["bayesopt"]


def test_the_cycle_finder_finds_cycles():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"d", "a"}, "e": set()}
    assert _cycles(graph) == [["a", "b", "c", "a"]]


def test_no_import_cycles_among_the_modules():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def test_the_journal_imports_nothing_of_ours_but_space_trial_and_events():
    graph = _graph()
    allowed = {"bayesopt.space", "bayesopt.trial", "bayesopt.events"}
    journal = {m for m in graph if m == "bayesopt.journal" or m.startswith("bayesopt.journal.")}
    outside = {(m, dep) for m in journal for dep in graph[m] - journal - allowed}
    assert not outside, f"the journal imports {sorted(outside)}"


def test_the_history_knows_nothing_of_the_journal_or_the_front():
    graph = _graph()
    for leaf in ("bayesopt.history", "bayesopt.events"):
        assert graph[leaf] <= {"bayesopt.events", "bayesopt.trial"}, (leaf, graph[leaf])
