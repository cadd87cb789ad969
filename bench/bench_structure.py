"""The import structure of bot/ in figures: files, layers, imports that run from a lower layer up, import cycles,
modules that change a run's state, and class names defined twice. Read from the code's own imports (grimp: every
import statement, the lazy ones inside functions included), nothing is run.

    python bench/bench_structure.py [SRC_ROOT]   # SRC_ROOT: a checkout to measure (default: this one)

The layers are the ones `lint-imports` enforces (pyproject.toml, [tool.importlinter]); here they are measured,
so an older checkout shows how far it was from them.
"""

from __future__ import annotations

import ast
import json
import sys
import tomllib
from collections import Counter
from pathlib import Path

import grimp


def layers(root: Path) -> list[list[str]]:
    """The layers contract of pyproject.toml, top first; each layer a list of sibling modules."""
    config = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["type"] == "layers")
    return [[m.strip() for m in layer.split("|")] for layer in contract["layers"]]


def layer_of(module: str, order: list[list[str]]) -> tuple[int, str] | None:
    for depth, layer in enumerate(order):
        for top in layer:
            if module == top or module.startswith(top + "."):
                return depth, top
    return None


def cycles(graph: grimp.ImportGraph, squash: str | None = None) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each a circle of imports. With ``squash``
    (a package), among its children only, each child package standing for every module inside it."""
    def child(module: str) -> str | None:
        if squash is None:
            return module
        if not module.startswith(squash + "."):
            return None
        return squash + "." + module[len(squash) + 1 :].split(".")[0]

    nodes = sorted({c for m in graph.modules if (c := child(m)) is not None})
    edges: dict[str, set[str]] = {n: set() for n in nodes}
    for m in graph.modules:
        if (a := child(m)) is None:
            continue
        for i in graph.find_modules_directly_imported_by(m):
            if (b := child(i)) is not None and b != a:
                edges[a].add(b)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    sys.setrecursionlimit(10_000)

    def visit(v: str) -> None:
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in nodes:
        if node not in index:
            visit(node)
    return found


def measure(src: Path) -> dict[str, object]:
    sys.path.insert(0, str(src))
    graph = grimp.build_graph("bot", cache_dir=None)
    order = layers(src)
    files = sorted((src / "bot").rglob("*.py"))
    up: list[str] = []
    for importer in graph.modules:
        for imported in graph.find_modules_directly_imported_by(importer):
            a, b = layer_of(importer, order), layer_of(imported, order)
            if a and b and a[1] != b[1] and a[0] >= b[0]:  # to a higher layer, or across independent siblings
                up.append(f"{importer} -> {imported}")
    transitions = [str(f.relative_to(src)) for f in files if "_NEXT" in f.read_text() and "RunState" in f.read_text()]
    classes = Counter(node.name for f in files for node in ast.walk(ast.parse(f.read_text())) if isinstance(node, ast.ClassDef))
    return {
        "files": len(files),
        "lines": sum(len(f.read_text().splitlines()) for f in files),
        "packages": len({f.parent for f in files}),
        "largest_file_lines": max(len(f.read_text().splitlines()) for f in files),
        "layers": len(order),
        "imports_up": sorted(up),
        "import_cycles": cycles(graph),
        # What lint-imports' acyclic_siblings contract forbids: circles between the packages (or modules) of one folder.
        "sibling_package_cycles": [c for pkg in sorted(m for m in graph.modules if graph.find_children(m))
                                   for c in cycles(graph, squash=pkg)],
        "modules_defining_run_transitions": transitions,
        "class_names_defined_twice": sorted(n for n, c in classes.items() if c > 1),
    }


if __name__ == "__main__":
    root = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    result = measure(root)
    print(json.dumps(result, indent=2))
