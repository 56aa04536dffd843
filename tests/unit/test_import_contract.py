"""The import contract of src/s3safe (README, Development: layers): only storage/ talks to the S3 client
libraries, arrows point down, no cycles. Each failure names the importing module, file and line."""

from __future__ import annotations

import functools
from pathlib import Path

from tests.unit.import_graph import (
    Graph,
    build_graph,
    client_library_violations,
    cycle_edges,
    cycles,
    layer_violations,
)

SRC = Path(__file__).resolve().parents[2] / "src"

# Violations known while the storage seam is being built (issue #19). THIS ALLOWLIST MUST END EMPTY:
# whoever removes a violation removes its entry here (a stale entry fails the test too).
#   h3: the download side.
ALLOWED_CLIENT_IMPORTS_IN_PROGRESS: frozenset[tuple[str, str]] = frozenset({
})  # fmt: skip
ALLOWED_CYCLES_IN_PROGRESS: frozenset[frozenset[str]] = frozenset({
})  # fmt: skip


def _top(name: str) -> str:
    return name.split(".")[0]


def _report(title: str, lines: list[str]) -> str:
    text = title + ":\n  " + "\n  ".join(lines)
    print(text)  # shown with -s, and in pytest's captured output of a failure
    return text


@functools.cache
def _graph() -> Graph:  # parsed once for the module's tests
    return build_graph(SRC)


def test_only_storage_imports_the_s3_client_libraries() -> None:
    found = client_library_violations(_graph())
    unexpected = [imp for imp in found if (imp.importer, _top(imp.imported)) not in ALLOWED_CLIENT_IMPORTS_IN_PROGRESS]
    assert not unexpected, _report("S3 client libraries imported outside storage/ (call them through storage/)", [str(i) for i in unexpected])
    stale = ALLOWED_CLIENT_IMPORTS_IN_PROGRESS - {(imp.importer, _top(imp.imported)) for imp in found}
    assert not stale, _report("allowlisted client imports that are gone: remove them from the allowlist", sorted(map(str, stale)))


def test_no_import_runs_back_up_the_layers() -> None:
    found = layer_violations(_graph())
    assert not found, _report("imports against the layer order (storage -> core only; transfer below ops; cli on top)", [str(i) for i in found])


def test_no_import_cycles() -> None:
    graph = _graph()
    found = cycles(graph)
    unexpected = [c for c in found if c not in ALLOWED_CYCLES_IN_PROGRESS]
    lines = [f"{sorted(c)}: " + "; ".join(str(i) for i in cycle_edges(graph, c)) for c in unexpected]
    assert not unexpected, _report("import cycles", lines)
    stale = ALLOWED_CYCLES_IN_PROGRESS - set(found)
    assert not stale, _report("allowlisted cycles that are gone: remove them from the allowlist", [str(sorted(c)) for c in stale])


def test_the_graph_sees_the_tree() -> None:
    # a checker that read nothing would pass everything
    graph = _graph()
    assert "s3safe.storage.connection" in graph.modules
    assert any(imp.importer == "s3safe.storage.connection" and imp.imported.startswith("botocore") for imp in graph.imports)


# ------------------------------------------------------------------- the checker, on a tree made to fail


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "s3safe" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for folder in {p.parent for p in (root / "s3safe").rglob("*.py")}:
        (folder / "__init__.py").touch()
    return root


def test_the_checker_finds_each_kind_of_violation(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "ops/lazy.py": "def f():\n    import botocore.exceptions\n",
        "ops/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from mypy_boto3_s3 import S3Client\n",
        "transfer/up.py": "from s3safe.ops import lazy\n",
        "storage/down.py": "from ..transfer.up import x\n",
        "core/ui.py": "def g():\n    from s3safe.cli.app import run\n",
        "cli/app.py": "run = 1\n",
        "query/a.py": "from s3safe.query.b import B\n",
        "query/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from s3safe.query.a import A\n",
        "storage/fine.py": "import obstore\nfrom s3safe.core import ui\n",
    })  # fmt: skip
    graph = build_graph(root)
    client = {(i.importer, i.imported, i.line) for i in client_library_violations(graph)}
    assert client == {("s3safe.ops.lazy", "botocore.exceptions", 2), ("s3safe.ops.typed", "mypy_boto3_s3", 3)}
    layers = {(i.importer, i.imported) for i in layer_violations(graph)}
    assert layers == {("s3safe.transfer.up", "s3safe.ops.lazy"), ("s3safe.storage.down", "s3safe.transfer.up"),
                      ("s3safe.core.ui", "s3safe.cli.app")}  # fmt: skip
    assert cycles(graph) == [frozenset({"s3safe.query.a", "s3safe.query.b"})]
    assert "s3safe/query/b.py:3" in "; ".join(str(i) for i in cycle_edges(graph, cycles(graph)[0]))


def test_a_clean_tree_passes(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "storage/s3.py": "import boto3\nfrom s3safe.core.errors import E\n",
        "transfer/up.py": "from s3safe.storage import s3\n",
        "cli/app.py": "from s3safe.transfer import up\n",
        "__main__.py": "from s3safe.cli.app import run\n",
    })  # fmt: skip
    graph = build_graph(root)
    assert client_library_violations(graph) == []
    assert layer_violations(graph) == []
    assert cycles(graph) == []
