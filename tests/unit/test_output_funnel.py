"""Every line the CLI prints goes through cli/render.py, which redacts and escapes it (issue 14.8).

A command that wrote to a stream itself would skip both: these checks make that bypass fail the suite.
"""

from __future__ import annotations

import ast
from pathlib import Path

import s3safe.cli

CLI = Path(s3safe.cli.__file__).parent
# render.py cleans every line; live.py only draws the lines render.py hands it (the live transfer display)
FUNNEL = {"render.py", "live.py"}
# writes that go to a file the user named, not to the terminal: (module, enclosing function)
FILE_WRITES = {("cmd_audit.py", "_write")}
FORBIDDEN_CALLS = {"print", "input", "echo", "secho", "get_text_stream", "get_binary_stream"}
FORBIDDEN_RICH = {"rich.console": None, "rich.live": None, "rich.status": None, "rich.progress": {"Progress"}}
HARMLESS = {"isatty", "fileno", "flush", "close"}  # asking about or flushing a stream prints nothing


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    harmless = {id(n.value) for n in ast.walk(tree) if isinstance(n, ast.Attribute) and n.attr in HARMLESS}

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else function
            where = f"{path.name}:{getattr(child, 'lineno', '?')}"
            if isinstance(child, ast.Call):
                func = child.func
                name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
                if name in {"write", "writelines"} and (path.name, function) not in FILE_WRITES:
                    found.append(f"{where}: .{name}() outside the renderer")
                elif name in FORBIDDEN_CALLS:
                    found.append(f"{where}: {name}() outside the renderer")
            if isinstance(child, ast.Attribute) and child.attr in {"stdout", "stderr"} and id(child) not in harmless:
                found.append(f"{where}: sys.{child.attr} outside the renderer (use app.render)")
            if isinstance(child, ast.ImportFrom) and child.module in FORBIDDEN_RICH:
                names = FORBIDDEN_RICH[child.module]
                if names is None or names & {alias.name for alias in child.names}:
                    found.append(f"{where}: imports from {child.module}; build rich output in the renderer")
            visit(child, inner)

    visit(tree, "")
    return found


def test_only_the_renderer_writes_to_the_terminal() -> None:
    modules = sorted(p for p in CLI.glob("*.py") if p.name not in FUNNEL)
    assert len(modules) > 5  # the scan did see the command modules
    violations = [v for module in modules for v in _violations(module)]
    assert violations == [], "\n".join(violations)


def test_the_check_catches_a_direct_write(tmp_path: Path) -> None:
    sample = tmp_path / "cmd_sample.py"
    sample.write_text(
        "import sys, click\n"
        "def f(app, key):\n"
        "    app.render.err.write(key)\n"
        "    sys.stdout.write(key)\n"
        "    click.echo(key)\n"
        "    print(key)\n"
        "    from rich.progress import Progress\n"
        "    if sys.stderr.isatty(): sys.stdout.flush()\n"
    )
    # err.write, stdout.write (+ sys.stdout), echo, print, Progress; isatty and flush are fine
    assert len(_violations(sample)) == 6
