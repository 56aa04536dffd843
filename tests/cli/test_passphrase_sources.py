"""Every problem with a passphrase source is one line and exit 4 (credentials), for the auth commands and the
crypto commands alike, naming the passphrase file (and, for auth, the credentials file it was to unlock); a
passphrase file open to group or others is used with a one-line warning (as age does). Found by an outside tester
(rt17): /dev/null exited 4 but a folder 2, a NUL file was taken as a passphrase, a 0644 file passed silently.

In process: each of these fails while the command line is parsed, before any request or decryption, so no server
or subprocess is needed. Unreadable-by-mode needs a non-root user: tests/unprivileged/test_tier.py."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from s3safe.cli.main import invoke

BAD_FILES = {
    "empty": (b"", "is empty"),
    "blank-line": (b"\n", "is empty"),
    "nul": (b"correct horse\x00battery\n", "holds a NUL byte"),
    "binary": (b"\xff\xfe\x00\x01", "holds a NUL byte"),
    "latin1": (b"caf\xe9 passphrase\n", "is not UTF-8 text"),
    "huge": (b"x" * (1024 * 1024 + 1), "is larger than 1,048,576 bytes"),
}
SPECIAL = {"device": ("/dev/zero", "is not a regular file"), "null": ("/dev/null", "is not a regular file")}


def _bad_sources(tmp_path: Path) -> list[tuple[str, str]]:
    """(path, expected words) of every kind of unusable passphrase file."""
    found = []
    for name, (data, words) in BAD_FILES.items():
        path = tmp_path / name
        path.write_bytes(data)
        path.chmod(0o600)
        found.append((str(path), words))
    folder = tmp_path / "folder"
    folder.mkdir()
    found += [(str(folder), "is a folder"), (str(tmp_path / "missing"), "not found"), *SPECIAL.values()]
    return found


def _one_error(capsys: pytest.CaptureFixture[str], code: int, expected: int) -> str:
    _, err = capsys.readouterr()
    errors = [line for line in err.splitlines() if line.startswith("s3safe: error:")]
    assert code == expected and len(errors) == 1 and len(err.splitlines()) == 1, err
    assert "Traceback" not in err and "internal error" not in err
    return errors[0]


@pytest.mark.parametrize("command", ["auth", "decrypt"])
def test_every_unusable_passphrase_file_is_one_line_exit_4(
    command: str, tmp_path: Path, isolated_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "note.txt.age"
    target.write_bytes(b"not read: the passphrase file fails first")
    vault = isolated_env / "s3safe-config" / "auth.age"
    for path, words in _bad_sources(tmp_path):
        argv = (["auth", "credential-process", "prod", "--passphrase-file", path] if command == "auth"
                else ["decrypt", "--passphrase-file", path, str(target), "-o", str(tmp_path / "out")])  # fmt: skip
        line = _one_error(capsys, invoke(argv), 4)
        assert path in line and words in line, (path, line)
        if command == "auth":  # which credentials file the passphrase was for
            assert f"cannot unlock the s3safe credentials file {vault}" in line, line
    assert not (tmp_path / "out").exists()


def test_a_passphrase_file_open_to_others_is_used_with_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from s3safe.crypto import keys

    exposed = tmp_path / "exposed.pass"
    exposed.write_text("a shared passphrase 1\n")
    exposed.chmod(0o644)
    # the file is accepted: the command goes on to its input (missing here, so no scrypt run is spent)
    code = invoke(["decrypt", "--passphrase-file", str(exposed), str(tmp_path / "absent.age"), "-o", str(tmp_path / "x")])
    _, err = capsys.readouterr()
    warnings = [line for line in err.splitlines() if "passphrase file" in line]
    assert warnings == [f"s3safe: warning: passphrase file {exposed} is open to group or others (mode 0644): "
                        f"run 'chmod 600 {exposed}'"], err  # fmt: skip
    assert code == 3 and "absent.age" in err, err
    private = tmp_path / "private.pass"
    private.write_text("a private passphrase 1\n")
    private.chmod(0o600)
    assert keys.passphrase_from_file(private) == "a private passphrase 1"
    assert "warning" not in capsys.readouterr().err
    assert os.stat(exposed).st_mode & 0o777 == 0o644  # warned, never changed behind the user's back
