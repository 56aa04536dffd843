"""Key sources: identity files (0600, optional passphrase), recipients, passphrases (never argv, never a prompt)."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest

from s3safe.core.errors import AccessDeniedError, NotFoundError, UsageError
from s3safe.core.redact import MASK, redact
from s3safe.crypto import age, keys

posix_only = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


@posix_only
def test_identity_file_is_private_and_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "identity.txt"
    recipient = keys.write_identity_file(path)
    assert path.stat().st_mode & 0o777 == 0o600
    assert not keys.insecure_permissions(path)
    text = path.read_text()
    assert f"# public key: {recipient}" in text
    identities = keys.load_identity_file(path)
    assert len(identities) == 1
    assert age.recipient_from_identity(identities[0]) == recipient
    assert redact(identities[0]) == MASK


def test_identity_file_is_never_silently_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "identity.txt"
    secret, recipient = age.generate_identity()
    assert keys.write_identity_file(path, secret) == recipient
    with pytest.raises(UsageError, match="already exists"):
        keys.write_identity_file(path)
    assert keys.load_identity_file(path) == [secret]
    other = keys.write_identity_file(path, overwrite=True)
    assert other != recipient
    if os.name == "posix":
        assert path.stat().st_mode & 0o777 == 0o600


def test_passphrase_protected_identity_file(tmp_path: Path) -> None:
    path = tmp_path / "identity.age"
    recipient = keys.write_identity_file(path, passphrase="protect me", work_factor=10)
    data = path.read_bytes()
    assert data.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----\n")
    assert b"AGE-SECRET-KEY" not in data
    asked: list[str] = []

    def prompt() -> str:
        asked.append("yes")
        return "protect me"

    identities = keys.load_identity_file(path, passphrase=prompt)
    assert asked == ["yes"]
    assert age.recipient_from_identity(identities[0]) == recipient
    with pytest.raises(AccessDeniedError, match="wrong passphrase"):
        keys.load_identity_file(path, passphrase="not it")
    with pytest.raises(AccessDeniedError, match="passphrase-protected"):
        keys.load_identity_file(path)


def test_plain_identity_file_never_asks_for_a_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "identity.txt"
    keys.write_identity_file(path)

    def prompt() -> str:
        raise AssertionError("must not prompt")

    assert len(keys.load_identity_file(path, passphrase=prompt)) == 1


@posix_only
def test_insecure_permissions_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "identity.txt"
    keys.write_identity_file(path)
    path.chmod(0o644)
    assert keys.insecure_permissions(path)


def test_identity_files_from_options_or_environment(tmp_path: Path) -> None:
    one, two = tmp_path / "one", tmp_path / "two"
    keys.write_identity_file(one)
    keys.write_identity_file(two)
    assert keys.resolve_identity_files([one], environ={"S3SAFE_IDENTITY_FILE": str(two)}) == [one]
    assert keys.resolve_identity_files([], environ={"S3SAFE_IDENTITY_FILE": str(two)}) == [two]
    with pytest.raises(UsageError, match=r"pass --identity FILE, set S3SAFE_IDENTITY_FILE, or create .*identity\.txt"):
        keys.resolve_identity_files([], environ={})
    assert len(keys.load_identities([one, two])) == 2
    with pytest.raises(NotFoundError, match="identity file not found"):
        keys.load_identities([tmp_path / "missing"])


def test_recipients_from_options_and_files(tmp_path: Path) -> None:
    _, r1 = age.generate_identity()
    _, r2 = age.generate_identity()
    listing = tmp_path / "recipients.txt"
    listing.write_text(f"# backup readers\n{r2}\n{r1}\n")
    assert keys.load_recipients([r1], [listing]) == [r1, r2]
    with pytest.raises(UsageError, match="no age recipient"):
        keys.load_recipients()
    with pytest.raises(UsageError, match="invalid age recipient"):
        keys.load_recipients(["age1xyz"])


def test_passphrase_sources_in_order(tmp_path: Path) -> None:
    pfile = tmp_path / "pass"
    pfile.write_text("from the file\nsecond line ignored\n")
    env = {"S3SAFE_PASSPHRASE": "from the env"}

    def prompt(message: str) -> str:
        return "from the prompt"

    assert keys.resolve_passphrase(passphrase_file=pfile, environ=env, prompt=prompt) == "from the file"
    assert keys.resolve_passphrase(environ=env, prompt=prompt) == "from the env"
    assert keys.resolve_passphrase(environ={}, prompt=prompt) == "from the prompt"
    with pytest.raises(UsageError, match="S3SAFE_PASSPHRASE"):
        keys.resolve_passphrase(environ={})
    for secret in ("from the file", "from the env", "from the prompt"):
        assert redact(f"x {secret} y") == f"x {MASK} y"


def test_passphrase_prompt_confirmation() -> None:
    answers = iter(["first try", "second try"])
    with pytest.raises(UsageError, match="do not match"):
        keys.resolve_passphrase(environ={}, prompt=lambda _m: next(answers), confirm=True)
    assert keys.resolve_passphrase(environ={}, prompt=lambda _m: "same same", confirm=True) == "same same"


def test_passphrase_file_problems(tmp_path: Path) -> None:
    # every unusable passphrase source is one class, exit 4 (credentials): tests/cli/test_passphrase_sources.py
    empty = tmp_path / "empty"
    empty.write_text("\n")
    with pytest.raises(keys.PassphraseSourceError, match="empty"):
        keys.passphrase_from_file(empty)
    with pytest.raises(keys.PassphraseSourceError, match="not found"):
        keys.passphrase_from_file(tmp_path / "missing")
    big = tmp_path / "big"
    big.write_bytes(b"x" * (keys.MAX_KEY_FILE + 1))
    with pytest.raises(keys.PassphraseSourceError, match="larger than"):
        keys.passphrase_from_file(big)
    crlf = tmp_path / "crlf"
    crlf.write_bytes(b"  spaces kept  \r\n")
    assert keys.passphrase_from_file(crlf) == "  spaces kept  "
    with pytest.raises(keys.PassphraseSourceError, match="empty") as caught:
        keys.resolve_passphrase(environ={"S3SAFE_PASSPHRASE": ""})
    assert caught.value.exit_code == 4


def test_keyring_is_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "keyring", None)  # import fails as if not installed
    assert keys.passphrase_from_keyring("backup") is None
    with pytest.raises(UsageError, match="keyring"):
        keys.store_passphrase_in_keyring("backup", "pw-pw")


def test_keyring_is_used_when_present(monkeypatch: pytest.MonkeyPatch) -> None:
    store: dict[tuple[str, str], str] = {}
    fake = types.ModuleType("keyring")
    fake.get_password = lambda service, entry: store.get((service, entry))  # type: ignore[attr-defined]
    fake.set_password = lambda service, entry, value: store.__setitem__((service, entry), value)  # type: ignore[attr-defined]
    errors = types.ModuleType("keyring.errors")

    class KeyringError(Exception):
        pass

    errors.KeyringError = KeyringError  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "keyring", fake)
    monkeypatch.setitem(sys.modules, "keyring.errors", errors)
    assert keys.passphrase_from_keyring("backup") is None
    keys.store_passphrase_in_keyring("backup", "kept in keyring")
    assert keys.resolve_passphrase(environ={}, keyring_entry="backup") == "kept in keyring"
    assert redact("kept in keyring") == MASK


def test_a_mismatched_new_passphrase_reads_as_a_sentence() -> None:
    answers = iter(["first passphrase", "second passphrase"])
    with pytest.raises(UsageError) as info:
        keys.resolve_passphrase(environ={}, prompt=lambda _: next(answers), confirm=True,
                                purpose="new passphrase of the s3safe credentials file")  # fmt: skip
    assert str(info.value).startswith("the two entries of the new passphrase of the s3safe credentials file do not match")


def test_an_exposed_passphrase_file_is_warned_about_once_per_run(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The warning is de-duplicated per run (the CLI reads the file twice), not per process: a second run in the
    same process warns again (it was a process-wide set, so the second run said nothing)."""
    from s3safe.core.context import running

    secret = tmp_path / "pass"
    secret.write_text("hunter22\n")
    secret.chmod(0o644)

    def warnings_in_a_run() -> int:
        caplog.clear()
        with running(), caplog.at_level("WARNING", logger="s3safe.keys"):
            assert keys.passphrase_from_file(secret) == "hunter22"
            assert keys.passphrase_from_file(secret) == "hunter22"
        return sum("open to group or others" in r.getMessage() for r in caplog.records)

    assert warnings_in_a_run() == 1
    assert warnings_in_a_run() == 1
