"""Run the installed `s3safe` as an unprivileged user, so that file modes are enforced for real.

The suite usually runs as root (CI does), and root ignores file modes: a `chmod 000` file stays readable
and a `chmod 555` folder stays writable, so permission handling would never be exercised. The runner picks,
once per session, the first of these that works here:

- ``self``: the suite is not root; the current user is already unprivileged, commands run directly.
- ``uid``: root switches to the ``nobody`` uid with ``setpriv`` (chosen when that uid can run the
  installed interpreter and import s3safe: the clone's path, its .venv and the interpreter behind it
  must all be reachable by it).
- ``nocaps``: root keeps uid 0 but drops every capability (``setpriv --bounding-set=-all``); modes then
  bind root like any owner (used where the interpreter lives under a 0700 home, e.g. pyenv in /root).

If none works the tier is skipped with the reason. Each test gets a `Sandbox`: a scratch folder outside
pytest's 0700 root-owned tmp_path, owned by the unprivileged uid, with a fake HOME inside it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tests.conftest import S3SAFE

# the probe: s3safe imports, and a mode-000 file really is unreadable
_PROBE = "import s3safe, sys\ntry:\n    open(sys.argv[1]).close()\nexcept PermissionError:\n    sys.exit(0)\nsys.exit(9)\n"
_VARIABLES_DROPPED = ("S3SAFE_CONFIG_DIR", "S3SAFE_STATE_DIR", "XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_CACHE_HOME",
                      "XDG_DATA_HOME", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE")  # fmt: skip


@dataclass(frozen=True)
class Runner:
    """How to start a command unprivileged: a command prefix, and whose files the scratch tree must be."""

    mode: str
    prefix: tuple[str, ...]
    uid: int
    gid: int


@dataclass(frozen=True)
class Unavailable:
    reason: str


def _nobody() -> tuple[int, int]:
    try:
        entry = pwd.getpwnam("nobody")
    except KeyError:
        return 65534, 65534
    return entry.pw_uid, entry.pw_gid


def _probe(prefix: list[str], *, uid: int, gid: int) -> str | None:
    """None when `prefix` runs the interpreter with s3safe importable and file modes enforced, else why not."""
    scratch = Path(tempfile.mkdtemp(prefix="s3safe-unpriv-probe-"))
    try:
        secret = scratch / "unreadable"
        secret.write_text("x")
        secret.chmod(0)
        if os.geteuid() == 0:
            os.chown(scratch, uid, gid)
            os.chown(secret, uid, gid)
        scratch.chmod(0o755)
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        try:
            done = subprocess.run([*prefix, sys.executable, "-c", _PROBE, str(secret)], capture_output=True, text=True,
                                  env=env, cwd=scratch, timeout=60, check=False)  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{' '.join(prefix[:1]) or 'python'}: {exc}"
        if done.returncode == 9:
            return "a mode-000 file stayed readable"
        if done.returncode != 0:
            return (done.stderr.strip().splitlines() or [f"exit {done.returncode}"])[-1]
        return None
    finally:
        _remove(scratch)


@cache
def runner() -> Runner | Unavailable:
    if os.geteuid() != 0:
        return Runner("self", (), os.geteuid(), os.getegid())
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        return Unavailable("running as root and setpriv (util-linux) is not installed: cannot drop privileges")
    uid, gid = _nobody()
    as_user = [setpriv, f"--reuid={uid}", f"--regid={gid}", "--clear-groups"]
    why_user = _probe(as_user, uid=uid, gid=gid)
    if why_user is None:
        return Runner("uid", tuple(as_user), uid, gid)
    no_caps = [setpriv, "--inh-caps=-all", "--ambient-caps=-all", "--bounding-set=-all"]
    why_caps = _probe(no_caps, uid=0, gid=0)
    if why_caps is None:
        return Runner("nocaps", tuple(no_caps), 0, 0)
    return Unavailable(f"uid {uid} cannot run {sys.executable} ({why_user}); dropping capabilities failed too ({why_caps})")


def _remove(root: Path) -> None:
    """rmtree that first gives the owner back rwx on every folder (tests leave 000 and 555 folders)."""
    for dirpath, _dirs, _files in os.walk(root):
        try:
            os.chmod(dirpath, stat.S_IRWXU)
        except OSError:
            pass
    shutil.rmtree(root, ignore_errors=True)


@dataclass
class Sandbox:
    """A scratch folder the unprivileged uid owns, a fake HOME inside it, and `run` to start s3safe there."""

    runner: Runner
    root: Path
    endpoint_args: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.root / "home"

    def connect(self, endpoint_url: str, *, access_key: str, secret_key: str, ca_bundle: str | None = None) -> None:
        """Point every later `run` at this S3 server (credentials by environment, as a user exports them)."""
        self.endpoint_args = ["--endpoint-url", endpoint_url]
        if endpoint_url.startswith("http://"):
            self.endpoint_args.append("--allow-http")
        if ca_bundle:
            # the server's CA file sits under pytest's root-only tmp folder: give the uid its own copy
            copy = self.root / "ca.pem"
            shutil.copyfile(ca_bundle, copy)
            self.endpoint_args += ["--ca-bundle", str(copy)]
        self.env.update({"AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key, "AWS_DEFAULT_REGION": "us-east-1"})

    def own(self) -> None:
        """Hand every file under the scratch folder to the unprivileged uid (modes are left as the test set them)."""
        if self.runner.mode != "uid":
            return
        for dirpath, dirs, files in os.walk(self.root):
            os.lchown(dirpath, self.runner.uid, self.runner.gid)
            for name in (*dirs, *files):
                os.lchown(os.path.join(dirpath, name), self.runner.uid, self.runner.gid)

    def command(self, *args: str) -> list[str]:
        return [*self.runner.prefix, S3SAFE, *self.endpoint_args, *args]

    def full_env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        base = {name: value for name, value in os.environ.items() if name not in _VARIABLES_DROPPED}
        return {**base, "HOME": str(self.home), "PYTHONDONTWRITEBYTECODE": "1", "NO_COLOR": "1", **self.env, **(extra or {})}

    def run(self, *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, input_text: str | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:  # fmt: skip
        """`s3safe ARGS` as the unprivileged user; the scratch tree is handed to that user first."""
        self.own()
        return subprocess.run(self.command(*args), capture_output=True, text=True, input=input_text, env=self.full_env(env),
                              cwd=cwd or self.root, timeout=timeout, check=False)  # fmt: skip


def make_sandbox(active: Runner) -> Sandbox:
    root = Path(tempfile.mkdtemp(prefix="s3safe-unpriv-"))
    root.chmod(0o755)
    (root / "home").mkdir(mode=0o755)
    sandbox = Sandbox(active, root)
    sandbox.own()
    return sandbox


def remove_sandbox(sandbox: Sandbox) -> None:
    _remove(sandbox.root)
