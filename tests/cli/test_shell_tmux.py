"""`s3safe shell` driven through a real terminal (tmux, Debian package) against the real moto server,
and the `completion` scripts.

The tmux server is private to each test (`-L` unique socket, `-f /dev/null`: no user configuration), runs
with the isolated HOME and the moto credentials, and is killed in a finalizer. Waiting polls the screen
(`capture-pane -p`) until the expected text shows up or a deadline passes; there are no fixed sleeps.
"""

from __future__ import annotations

import os
import shlex
import shutil
import stat
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.conftest import S3SAFE
from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
TMUX = shutil.which("tmux") or "/usr/bin/tmux"
DEADLINE = 20.0


class Terminal:
    def __init__(self, env: dict[str, str]) -> None:
        self.socket = f"s3safe-test-{uuid.uuid4().hex[:12]}"
        self.socket_path: Path | None = None
        self.env = env

    def tmux(self, *args: str) -> CompletedProcess[str]:
        return subprocess.run([TMUX, "-L", self.socket, "-f", "/dev/null", *args], env=self.env, capture_output=True,
                              text=True, timeout=15, check=True)  # fmt: skip

    def start(self, command: list[str], *, cwd: Path) -> None:
        # sh prints the exit status on the screen (tmux's pane_dead_status can lag far behind) and, with a no-op
        # trap, outlives the Ctrl-C keystrokes meant for s3safe; remain-on-exit keeps the pane readable afterwards
        script = f'trap : INT; {shlex.join(command)}; echo "[shell exited: $?]"'
        self.tmux("new-session", "-d", "-s", "main", "-x", "160", "-y", "50", "-c", str(cwd), "--", "sh", "-c", script,
                  ";", "set-option", "-t", "main", "remain-on-exit", "on")  # fmt: skip
        self.socket_path = Path(self.pane("#{socket_path}"))

    def stop(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "kill-server"], env=self.env, capture_output=True, timeout=15, check=False)
        if self.socket_path is not None:
            self.socket_path.unlink(missing_ok=True)  # kill-server leaves the socket file behind

    def type(self, text: str, *, enter: bool = True) -> None:
        self.tmux("send-keys", "-t", "main", "-l", "--", text)
        if enter:
            self.tmux("send-keys", "-t", "main", "Enter")

    def key(self, name: str) -> None:
        self.tmux("send-keys", "-t", "main", name)

    def screen(self) -> str:
        return self.tmux("capture-pane", "-p", "-J", "-t", "main", "-S", "-1000").stdout

    def wait_for(self, check: Callable[[str], bool], what: str) -> str:
        deadline = time.monotonic() + DEADLINE
        while True:
            screen = self.screen()
            if check(screen):
                return screen
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; the screen was:\n{screen}")
            time.sleep(0.05)  # polling interval, not a wait for anything in particular

    def wait_text(self, text: str, *, count: int = 1) -> str:
        return self.wait_for(lambda screen: screen.count(text) >= count, repr(text) + (f" x{count}" if count > 1 else ""))

    def pane(self, fmt: str) -> str:
        return self.tmux("display-message", "-p", "-t", "main", fmt).stdout.strip()


@pytest.fixture
def terminal(moto: MotoServer, isolated_env: Path) -> Iterator[Terminal]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
    env["TERM"] = "xterm-256color"
    term = Terminal(env)
    yield term
    term.stop()


def test_shell_cd_ls_put_get_in_a_real_terminal(
    terminal: Terminal, moto: MotoServer, run_cli: Run, bucket_name: Callable[[], str], tmp_path: Path, isolated_env: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "hello.txt").write_text("hello from the shell\n")
    (work / "notes.txt").write_text("notes\n")
    (work / "restored").mkdir()
    bucket = bucket_name()
    terminal.start([S3SAFE, "--endpoint-url", moto.endpoint_url, "--allow-http", "shell"], cwd=work)
    top, here, docs = "s3safe />", f"s3safe s3://{bucket}/>", f"s3safe s3://{bucket}/docs/>"  # prompts (tmux trims the blank)
    terminal.wait_text(top)

    terminal.type(f"mb s3://{bucket}")
    terminal.wait_text(top, count=2)
    terminal.type(f"cd {bucket}")
    terminal.wait_text(here)
    terminal.type("put hello.txt")  # no destination: the current location
    terminal.wait_text(here, count=2)
    terminal.type("cd docs")
    terminal.wait_text(docs)
    terminal.type("put notes.txt")
    terminal.wait_text(docs, count=2)
    terminal.type("cd ..")
    terminal.wait_text(here, count=3)
    terminal.type("ls")
    screen = terminal.wait_text(here, count=4)
    assert f"upload s3://{bucket}/hello.txt" in screen and f"upload s3://{bucket}/docs/notes.txt" in screen

    # the same lines the CLI prints for the same listing
    cli = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "ls", f"s3://{bucket}/")
    assert cli.returncode == 0 and f"s3://{bucket}/hello.txt" in cli.stdout and f"s3://{bucket}/docs/" in cli.stdout
    for line in cli.stdout.splitlines():
        assert line.rstrip() in screen

    # Tab completes the key from the store, then get restores it into a local folder
    terminal.type("get hel", enter=False)
    terminal.key("Tab")
    terminal.wait_text(f"{here} get hello.txt")
    terminal.type(" restored/")
    terminal.wait_text(here, count=5)
    assert (work / "restored" / "hello.txt").read_text() == "hello from the shell\n"

    # Ctrl-C cancels the running command, not the shell: a throttled download, stopped mid-way ...
    # 60 s at 64 KiB/s: on a loaded machine the Ctrl-C below may come seconds late, never a minute
    (work / "big.bin").write_bytes(os.urandom(4_000_000))
    terminal.type("put big.bin")
    terminal.wait_text(here, count=6)
    terminal.type("--max-bandwidth 64KiB get -r . slow/")
    deadline = time.monotonic() + DEADLINE
    while not any(p.name.endswith(".s3safe-tmp") for p in (work / "slow").rglob("*")):  # it is running
        assert time.monotonic() < deadline, terminal.screen()
        time.sleep(0.05)
    terminal.key("C-c")
    terminal.wait_text(here, count=7)
    assert not (work / "slow" / "big.bin").exists()
    # ... and the next command runs normally (the cancellation does not linger)
    terminal.type("get -r . fast/")
    terminal.wait_text(here, count=8)
    assert (work / "fast" / "big.bin").stat().st_size == 4_000_000
    # a command waiting at a prompt is cancelled the same way
    terminal.type("auth save scratch")
    terminal.wait_text("Access key ID:")
    terminal.key("C-c")
    terminal.wait_text("aborted")
    terminal.type("pwd")
    screen = terminal.wait_text(here, count=10)
    stopped = screen.split("get -r . slow/", 1)[1].split("get -r . fast/", 1)[0]
    assert "s3safe: error:" in stopped and "big.bin" not in stopped  # the slow download said it stopped, unfinished
    assert f"{here} pwd\ns3://{bucket}/\n" in screen
    assert "Traceback" not in screen

    terminal.type("exit")
    terminal.wait_text("[shell exited: 0]")

    history = isolated_env / "s3safe-state" / "shell_history"
    assert stat.S_IMODE(history.stat().st_mode) == 0o600
    assert f"cd {bucket}" in history.read_text() and "put hello.txt" in history.read_text()


def test_completion_scripts(run_cli: Run, tmp_path: Path) -> None:
    for shell, marker in (
        ("bash", "_S3SAFE_COMPLETE=bash_complete"),
        ("zsh", "#compdef s3safe"),
        ("fish", "complete --no-files --command s3safe"),
    ):
        script = run_cli("completion", shell)
        assert script.returncode == 0 and marker in script.stdout, script.stdout
    assert run_cli("completion", "tcsh").returncode == 2

    # the bash script really completes: source it and ask for the words after "s3safe auth u"
    script = tmp_path / "s3safe.bash"
    script.write_text(run_cli("completion", "bash").stdout)
    probe = f'source {script}; COMP_WORDS=(s3safe auth u); COMP_CWORD=2; _s3safe_completion s3safe; printf "%s\\n" "${{COMPREPLY[@]}}"'
    env = {**os.environ, "PATH": f"{Path(S3SAFE).parent}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", "--norc", "-c", probe], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["use"]
