"""First run without a keyring (a headless server): `auth save` offers to create the encrypted credentials file
and asks for its new passphrase twice (at a terminal, driven through tmux), and a cron job then supplies the
passphrase from a 0600 file or S3SAFE_PASSPHRASE; every failure on that path is one line, exit 4. A
`--with-token` without a token is an error."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

from tests.cli.test_shell_tmux import Terminal
from tests.conftest import S3SAFE

Run = Callable[..., CompletedProcess[str]]
NO_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
KEY_ID, SECRET = "AKIAFIRSTRUN0000WXYZ", "first-run-secret-value-1234567890"
KEYS = f"{KEY_ID}\n{SECRET}\n"


def _one_error(result: CompletedProcess[str], code: int) -> str:
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert result.returncode == code and len(errors) == 1, result.stderr
    assert "Traceback" not in result.stderr and SECRET not in result.stderr + result.stdout
    return errors[0]


def test_first_save_at_a_terminal_creates_the_file_and_cron_uses_it(run_cli: Run, isolated_env: Path, tmp_path: Path) -> None:
    vault = isolated_env / "s3safe-config" / "auth.age"
    headless = run_cli("auth", "save", "prod", input_text=KEYS, env=NO_KEYRING)  # no terminal, no passphrase given
    line = _one_error(headless, 4)
    assert "no passphrase to create the encrypted credentials file" in line and "locked" not in line
    assert not vault.exists()

    env = {k: v for k, v in os.environ.items() if not k.startswith(("TMUX", "S3SAFE_PASSPHRASE"))}
    env.update(NO_KEYRING, TERM="xterm-256color")
    term = Terminal(env)
    try:
        term.start([S3SAFE, "auth", "save", "prod"], cwd=tmp_path)
        term.wait_text("Access key ID:")
        term.type(KEY_ID)
        term.wait_text("Secret access key:")
        term.type(SECRET)
        term.wait_text("No usable OS keyring")
        term.type("y")
        term.wait_text("Enter new passphrase of the s3safe credentials file:")
        term.type("cron passphrase 42")
        term.wait_text("Confirm new passphrase of the s3safe credentials file:")
        term.type("cron passphrase 42")
        screen = term.wait_text("[shell exited: 0]")
    finally:
        term.stop()
    assert "saved profile prod" in screen and SECRET not in screen
    assert stat.S_IMODE(vault.stat().st_mode) == 0o600

    # the cron job: a 0600 passphrase file (or S3SAFE_PASSPHRASE)
    secret_file = tmp_path / "passphrase"
    secret_file.write_text("cron passphrase 42\n")
    secret_file.chmod(0o600)
    exported = run_cli("auth", "credential-process", "prod", "--passphrase-file", str(secret_file), env=NO_KEYRING)
    assert exported.returncode == 0 and KEY_ID in exported.stdout, exported.stderr
    by_env = run_cli("auth", "credential-process", "prod", env={**NO_KEYRING, "S3SAFE_PASSPHRASE": "cron passphrase 42"})
    assert by_env.returncode == 0 and KEY_ID in by_env.stdout, by_env.stderr

    missing = run_cli("auth", "credential-process", "prod", "--passphrase-file", str(tmp_path / "gone"), env=NO_KEYRING)
    assert "passphrase file not found" in _one_error(missing, 4)
    wrong = run_cli("auth", "credential-process", "prod", env={**NO_KEYRING, "S3SAFE_PASSPHRASE": "not it"})
    assert f"wrong passphrase for the s3safe credentials file {vault}" in _one_error(wrong, 4)


def test_with_token_needs_a_token(run_cli: Run) -> None:
    env = {**NO_KEYRING, "S3SAFE_PASSPHRASE": "any passphrase 1"}
    piped = run_cli("auth", "save", "t", "--with-token", input_text=KEYS, env=env)
    assert "session token as the third line" in _one_error(piped, 2)
    from_env = run_cli("auth", "save", "t", "--from-env", "--with-token",
                       env={**env, "AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET})  # fmt: skip
    assert "AWS_SESSION_TOKEN" in _one_error(from_env, 2)
