"""The package's shape, checked on its source: no import cycle and no use of another
module's private names, lazy (function-level) imports included.

The graph is read from the AST of every module under ``src/stillmotion``: an edge
A → B for each ``import``/``from … import`` in A (at any depth) that names a module
B of the package. ``from pkg import name`` counts as an edge to the submodule
``pkg.name`` when there is one, else to ``pkg`` itself. Importing a subpackage also
runs its ``__init__`` (an edge to each parent package), except the root package
face ``stillmotion/__init__.py``, which only explicit imports reach.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"
ROOT = "stillmotion"


def _modules() -> dict[str, Path]:
    """Dotted module name → file, for every module of the package."""
    out = {}
    for path in sorted((SRC / ROOT).rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _resolve(importer: str, level: int, module: str | None) -> str | None:
    """The absolute dotted name of a (possibly relative) import, or None if outside the package."""
    if level == 0:
        name = module or ""
    else:
        base = importer.split(".")
        if not _is_package(importer):
            base = base[:-1]
        base = base[: len(base) - (level - 1)]
        name = ".".join(base + ([module] if module else []))
    return name if name == ROOT or name.startswith(ROOT + ".") else None


def _known(name: str) -> str | None:
    """The longest prefix of ``name`` that is a module of the package."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in MODULES:
            return candidate
        parts.pop()
    return None


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(2, len(parts))]  # not the root face


def _imports(importer: str) -> list[tuple[str, list[str], int]]:
    """(target module, names imported from it, line) for every import in the module."""
    tree = ast.parse(MODULES[importer].read_text(), filename=str(MODULES[importer]))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _known(alias.name) if alias.name.startswith(ROOT) else None
                if target:
                    found.append((target, [], node.lineno))
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(importer, node.level, node.module)
            if base is None:
                continue
            plain = []
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in MODULES:
                    found.append((sub, [], node.lineno))
                else:
                    plain.append(alias.name)
            if plain or not node.names:
                target = _known(base)
                if target:
                    found.append((target, plain, node.lineno))
    return found


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {m: set() for m in MODULES}
    for importer in MODULES:
        for target, _names, _line in _imports(importer):
            for t in [*_parents(target), target]:
                if t != importer and not importer.startswith(t + "."):
                    graph[importer].add(t)
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_the_graph_is_read():
    """The reader sees the package's real edges (a broken reader would find no cycle in anything)."""
    graph = _graph()
    assert "stillmotion.api" in graph["stillmotion.cli_request"]  # a lazy import, in `animate`
    assert "stillmotion.cli_request" in graph["stillmotion.cli"]  # a lazy import, in a method
    assert "stillmotion.errors" in graph["stillmotion.api"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles (lazy imports included): " + "; ".join(" ⇄ ".join(c) for c in cycles)


def test_no_private_name_crosses_a_module():
    """No ``from stillmotion.x import _name`` and no ``x._name`` on an imported stillmotion module:
    what another module needs is public in the module that owns it."""
    bad = []
    for importer in MODULES:
        tree = ast.parse(MODULES[importer].read_text())
        module_aliases: dict[str, str] = {}
        for target, names, line in _imports(importer):
            for n in names:
                if n.startswith("_") and not (n.startswith("__") and n.endswith("__")) and target != importer:
                    bad.append(f"{importer}:{line} imports {n} from {target}")
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = _resolve(importer, node.level, node.module)
                for alias in node.names:
                    if base and f"{base}.{alias.name}" in MODULES:
                        module_aliases[alias.asname or alias.name] = f"{base}.{alias.name}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith(ROOT) and alias.asname:
                        module_aliases[alias.asname] = alias.name
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in module_aliases
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
            ):
                bad.append(f"{importer}:{node.lineno} uses {module_aliases[node.value.id]}.{node.attr}")
    assert not bad, "private names used across modules:\n" + "\n".join(sorted(set(bad)))


def test_plan_never_imports_an_engine():
    """The Plan stage owns its vocabulary: engines import from plan/, never the reverse."""
    up = [
        (m, t)
        for m, targets in _graph().items()
        if m.startswith(ROOT + ".plan")
        for t in targets
        if t.startswith(ROOT + ".engines")
    ]
    assert not up, f"plan/ imports engines/: {up}"


def test_no_module_imports_the_package_face():
    """Modules import what they need from the module that owns it (``from .._version import
    __version__``), never from ``stillmotion/__init__.py``, which imports the pipeline."""
    up = [f"{m}:{line}" for m in MODULES if m != ROOT for t, _n, line in _imports(m) if t == ROOT]
    assert not up, f"imports of the package face: {up}"
