"""No import circles between the modules of data_prep, models and search.

The graph is built from the source with ``ast``: an edge ``a -> b`` for every ``import b`` or
``from b import x`` in module ``a``, at module level or inside a function (a function-level import
that closes a circle still couples the two modules, it only hides the circle until run time), and
``a -> b.x`` where ``x`` is itself a module. Importing ``p.q.r`` also runs ``p/__init__`` and
``p/q/__init__``, so those packages are edges too. Imports under ``if TYPE_CHECKING:`` never run
and are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = ("data_prep", "models", "search")

# Circles not broken yet, each as its sorted tuple of modules; the goal is an empty list.
ALLOWED: list[tuple[str, ...]] = []


def module_name(path: Path) -> str:
    parts = path.relative_to(REPO).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            found[module_name(path)] = path
    return found


def _type_checking_only(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            return True
    return False


def _imported(node: ast.Import | ast.ImportFrom, name: str, is_package: bool) -> list[str]:
    """The module names one import statement of module ``name`` refers to (ours or not)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    base = node.module or ""
    if node.level:  # relative: from the importing module's package
        package = name.split(".") if is_package else name.split(".")[:-1]
        package = package[: len(package) - node.level + 1]
        base = ".".join([*package, base] if base else package)
    return [base, *(f"{base}.{alias.name}" for alias in node.names)]


def import_graph() -> dict[str, set[str]]:
    """module -> the modules of the three packages it imports (see the module docstring)."""
    known = modules()
    graph: dict[str, set[str]] = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        edges: set[str] = set()
        for node in ast.walk(tree):
            if not isinstance(node, ast.Import | ast.ImportFrom):
                continue
            if _type_checking_only(node, parents):
                continue
            for target in _imported(node, name, path.name == "__init__.py"):
                parts = target.split(".")
                edges |= {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
        graph[name] = {e for e in edges if e in known and e != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[tuple[str, ...]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[tuple[str, ...]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(tuple(sorted(component)))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(found)


def one_circle(graph: dict[str, set[str]], component: tuple[str, ...]) -> list[str]:
    """A shortest path from the component's first module back to itself: the circle to print."""
    start, inside = component[0], set(component)
    paths = {start: [start]}
    frontier = [start]
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(graph[v] & inside):
                if w == start:
                    return [*paths[v], start]
                if w not in paths:
                    paths[w] = [*paths[v], w]
                    nxt.append(w)
        frontier = nxt
    return list(component)


def test_the_graph_sees_the_packages_and_their_imports() -> None:
    graph = import_graph()
    assert {"data_prep", "models", "search", "search.commands", "models.layers"} <= set(graph)
    assert "data_prep.io.run_record" in graph["data_prep.dft.runs"]  # a module-level import
    assert "models.bench" in graph["search.tracking.provenance"]  # one inside a function
    assert "search.commands" in graph["search.commands.explain"]  # a package's __init__
    assert {"models.layers", "models.layers.conv"} <= graph["models.net"]  # parents run too
    assert not any(name.startswith(("models", "search")) for e in
                   (graph[m] for m in graph if m.startswith("data_prep")) for name in e)


def test_no_import_circles() -> None:
    graph = import_graph()
    found = cycles(graph)
    new = [c for c in found if c not in ALLOWED]
    message = "\n".join(" -> ".join(one_circle(graph, c)) for c in new)
    assert not new, f"import circles:\n{message}"
    assert not [c for c in ALLOWED if c not in found], "an allowed circle is gone: remove it"


def test_a_planted_circle_is_found_and_printed() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [("a", "b", "c")]
    assert one_circle(graph, ("a", "b", "c")) == ["a", "b", "c", "a"]
