"""The import graph of a source tree, read with ast, and the layer contract checked against it.

Every import counts: module level, inside functions (the lazy imports that keep start-up fast) and under
`if TYPE_CHECKING:`, because a lazy import still couples two modules and a type-only import still says
which layer knows about which.

The contract (README, Development):
- only `storage/` imports the S3 client libraries (boto3, botocore, obstore, s3transfer, and their
  mypy_boto3 type stubs);
- arrows point down: storage imports none of transfer/ops/audit/cli/query; transfer none of
  ops/audit/cli; nothing outside cli imports cli;
- no import cycles between modules.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = "s3safe"

# top-level names of the S3 client libraries; `mypy_boto3_` is a prefix (one stub package per service)
CLIENT_LIBRARIES = ("boto3", "botocore", "obstore", "s3transfer")
CLIENT_STUB_PREFIX = "mypy_boto3_"

# layer (the first package under s3safe) -> layers it must never import
FORBIDDEN_LAYERS: Mapping[str, frozenset[str]] = {
    "storage": frozenset({"transfer", "ops", "audit", "cli", "query"}),
    "transfer": frozenset({"ops", "audit", "cli"}),
}
CLIENT_LAYER = "storage"  # the only layer that may import the client libraries
TOP_LAYER = "cli"  # nothing else may import it (s3safe/__main__.py is the entry point and may)


@dataclass(frozen=True, slots=True)
class Import:
    importer: str  # dotted module name, e.g. s3safe.transfer.single
    imported: str  # dotted name as resolved (a submodule when `from pkg import sub` names one)
    path: str  # file, relative to the source root
    line: int

    def __str__(self) -> str:
        return f"{self.importer} imports {self.imported} ({self.path}:{self.line})"


@dataclass(slots=True)
class Graph:
    modules: dict[str, Path] = field(default_factory=dict)
    imports: list[Import] = field(default_factory=list)

    def internal_edges(self) -> dict[str, set[str]]:
        edges: dict[str, set[str]] = {name: set() for name in self.modules}
        for imp in self.imports:
            if imp.imported in self.modules and imp.imported != imp.importer:
                edges[imp.importer].add(imp.imported)
        return edges


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _resolve_from(node: ast.ImportFrom, importer: str, *, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_package else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imports_of(tree: ast.AST, importer: str, *, is_package: bool, modules: Mapping[str, Path]) -> Iterator[tuple[str, int]]:
    # ast.walk reaches function bodies and `if TYPE_CHECKING:` blocks alike
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            base = _resolve_from(node, importer, is_package=is_package)
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                yield (sub if sub in modules else base), node.lineno


def build_graph(root: Path, package: str = PACKAGE) -> Graph:
    """The import graph of `root/package` (root is the source folder, e.g. src/)."""
    graph = Graph()
    files = sorted((root / package).rglob("*.py"))
    for path in files:
        graph.modules[_module_name(root, path)] = path
    for path in files:
        importer = _module_name(root, path)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        rel = path.relative_to(root).as_posix()
        for imported, line in _imports_of(tree, importer, is_package=path.name == "__init__.py", modules=graph.modules):
            graph.imports.append(Import(importer, imported, rel, line))
    return graph


def layer_of(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) >= 2 and parts[0] == PACKAGE else ""


def _is_client_library(name: str) -> bool:
    top = name.split(".")[0]
    return top in CLIENT_LIBRARIES or top.startswith(CLIENT_STUB_PREFIX)


def client_library_violations(graph: Graph) -> list[Import]:
    """Imports of boto3/botocore/obstore/s3transfer (or their stubs) outside storage/."""
    return [imp for imp in graph.imports if _is_client_library(imp.imported) and layer_of(imp.importer) != CLIENT_LAYER]


def layer_violations(graph: Graph) -> list[Import]:
    """Imports that run back up the layers."""
    out = []
    for imp in graph.imports:
        if not imp.imported.startswith(PACKAGE + "."):
            continue
        source, target = layer_of(imp.importer), layer_of(imp.imported)
        if target in FORBIDDEN_LAYERS.get(source, frozenset()) or (target == TOP_LAYER and source not in (TOP_LAYER, "__main__")):
            out.append(imp)
    return out


def cycles(graph: Graph) -> list[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    edges = graph.internal_edges()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work: list[tuple[str, Iterator[str]]] = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(frozenset(component))
    return found


def cycle_edges(graph: Graph, component: Iterable[str]) -> list[Import]:
    """The imports that hold a cycle together, to name file and line."""
    members = set(component)
    found = (imp for imp in graph.imports if imp.importer in members and imp.imported in members and imp.importer != imp.imported)
    return list(dict.fromkeys(found))  # `from m import a, b` is one import


def main() -> None:
    """`python -m tests.unit.import_graph [SRC]`: every module with what it imports (s3safe modules and the S3
    client libraries), then the contract's findings."""
    import sys

    graph = build_graph(Path(sys.argv[1] if len(sys.argv) > 1 else "src"))
    for module in sorted(graph.modules):
        targets = sorted({i.imported for i in graph.imports if i.importer == module
                          and (i.imported.startswith(PACKAGE + ".") or _is_client_library(i.imported))})  # fmt: skip
        print(f"{module}: {', '.join(targets) or '-'}")
    for title, found in (("client libraries outside storage/", client_library_violations(graph)), ("up the layers", layer_violations(graph))):
        for imp in found:
            print(f"VIOLATION ({title}): {imp}")
    for component in cycles(graph):
        print(f"CYCLE: {sorted(component)}: " + "; ".join(map(str, cycle_edges(graph, component))))


if __name__ == "__main__":
    main()
