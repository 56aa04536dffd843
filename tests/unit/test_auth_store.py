"""Profile store: keyring and encrypted-file paths, the index, masking, selection and the botocore provider.

The keyring path uses `tests.file_keyring.FileKeyring`, a real `keyring.backend.KeyringBackend` subclass that
keeps its entries in a JSON file under the test's tmp_path; no real user keyring is touched (HOME is fake too).
The file path uses a low scrypt work factor to stay fast; the CLI tests use the real default.
"""

from __future__ import annotations

import os
import shlex
import stat
from pathlib import Path

import pytest

from s3safe.auth import selection
from s3safe.auth.backends import usable_keyring
from s3safe.auth.index import INDEX_NAME
from s3safe.auth.profiles import Credentials, make_credentials, mask_key_id, validate_name
from s3safe.auth.provider import METHOD, saved_profile_for
from s3safe.auth.store import ProfileStore, credential_process_line
from s3safe.auth.vault import VAULT_NAME
from s3safe.core.errors import AccessDeniedError, NotFoundError, UsageError
from s3safe.core.redact import MASK, redact
from s3safe.storage.session import make_session
from tests.file_keyring import ENV as KEYRING_FILE_ENV
from tests.file_keyring import FileKeyring

KEY_ID = "AKIAUNITTESTKEY0WXYZ"
SECRET = "unit-test-secret-Zx81/qL+r0"


@pytest.fixture
def file_keyring(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FileKeyring:
    monkeypatch.setenv(KEYRING_FILE_ENV, str(tmp_path / "keyring.json"))
    return FileKeyring()


def _passphrase(value: str = "correct horse battery") -> object:
    asked: list[bool] = []

    def source(*, new: bool) -> str:
        asked.append(new)
        return value

    source.asked = asked  # type: ignore[attr-defined]
    return source


def _store(tmp_path: Path, *, keyring: object | None, passphrase: object | None = None) -> ProfileStore:
    return ProfileStore(directory=tmp_path / "cfg", keyring_backend=keyring, passphrase=passphrase, work_factor=10)  # type: ignore[arg-type]


def test_masking_keeps_only_the_last_four_characters() -> None:
    assert mask_key_id(KEY_ID) == "****WXYZ"
    assert mask_key_id("SHORT12") == "****"  # too short to show any of it
    assert KEY_ID[:-4] not in mask_key_id(KEY_ID)


def test_credentials_never_show_in_repr_and_are_redacted_once_made() -> None:
    creds = make_credentials(KEY_ID, SECRET, session_token="token-value-1234")
    assert SECRET not in repr(creds) and KEY_ID not in repr(creds)
    assert redact(f"x {SECRET} y {KEY_ID} z") == f"x {MASK} y {MASK} z"


@pytest.mark.parametrize(
    ("key_id", "secret", "message"),
    [("AK", SECRET, "3 to 128"), ("AKIA KEY", SECRET, "3 to 128"), (KEY_ID, "", "empty"), (KEY_ID, "a\x1bb", "printable")],
)
def test_bad_credentials_are_refused_without_quoting_them(key_id: str, secret: str, message: str) -> None:
    with pytest.raises(UsageError, match=message) as info:
        make_credentials(key_id, secret)
    assert not secret or secret not in str(info.value)


@pytest.mark.parametrize("name", ["", "-x", "a b", "x" * 65, "none", "NONE", "../etc", "a/b"])
def test_bad_profile_names(name: str) -> None:
    with pytest.raises(UsageError):
        validate_name(name)


def test_keyring_path_round_trip_and_index_holds_no_secret(tmp_path: Path, file_keyring: FileKeyring) -> None:
    store = _store(tmp_path, keyring=file_keyring)
    result = store.save("prod", make_credentials(KEY_ID, SECRET))
    assert result.profile.store == "keyring" and result.fallback_reason is None
    assert "FileKeyring" in result.profile.location
    assert store.load("prod") == Credentials(KEY_ID, SECRET)
    index_bytes = (tmp_path / "cfg" / INDEX_NAME).read_bytes()
    assert SECRET.encode() not in index_bytes and KEY_ID.encode() not in index_bytes
    assert b"****WXYZ" in index_bytes
    assert not (tmp_path / "cfg" / VAULT_NAME).exists()
    assert stat.S_IMODE((tmp_path / "cfg" / INDEX_NAME).stat().st_mode) == 0o600
    assert SECRET in (tmp_path / "keyring.json").read_text()  # it really went to the keyring backend


def test_fallback_file_is_encrypted_0600_and_needs_the_passphrase(tmp_path: Path) -> None:
    source = _passphrase()
    store = _store(tmp_path, keyring=None, passphrase=source)
    result = store.save("prod", make_credentials(KEY_ID, SECRET))
    assert result.profile.store == "file" and result.fallback_reason == "no usable OS keyring backend"
    assert source.asked == [True]  # type: ignore[attr-defined]  # a new file: the caller confirms the passphrase
    vault = tmp_path / "cfg" / VAULT_NAME
    data = vault.read_bytes()
    assert data.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")
    assert SECRET.encode() not in data and KEY_ID.encode() not in data and b"WXYZ" not in data
    assert stat.S_IMODE(vault.stat().st_mode) == 0o600
    assert stat.S_IMODE(vault.parent.stat().st_mode) == 0o700

    fresh = _store(tmp_path, keyring=None, passphrase=_passphrase())
    assert fresh.load("prod").secret_access_key == SECRET
    with pytest.raises(AccessDeniedError, match="wrong passphrase"):
        _store(tmp_path, keyring=None, passphrase=_passphrase("wrong")).load("prod")
    with pytest.raises(AccessDeniedError, match="S3SAFE_PASSPHRASE"):
        _store(tmp_path, keyring=None, passphrase=None).load("prod")


def test_file_vault_keeps_other_profiles_and_disappears_with_the_last(tmp_path: Path) -> None:
    store = _store(tmp_path, keyring=None, passphrase=_passphrase())
    store.save("a", make_credentials("AKIAFIRSTKEY00000001", "first-secret-value"))
    store.save("b", make_credentials("AKIASECONDKEY0000002", "second-secret-value"))
    with pytest.raises(UsageError, match="already exists"):
        store.save("a", make_credentials("AKIATHIRDKEY00000003", "third-secret-value"))
    store.remove("a")
    assert _store(tmp_path, keyring=None, passphrase=_passphrase()).load("b").secret_access_key == "second-secret-value"
    with pytest.raises(NotFoundError, match="no saved profile named 'a'"):
        store.load("a")
    # removing the last file-backed profile deletes the file without asking for the passphrase
    _store(tmp_path, keyring=None, passphrase=None).remove("b")
    assert not (tmp_path / "cfg" / VAULT_NAME).exists()


def test_replacing_moves_between_stores_and_cleans_up(tmp_path: Path, file_keyring: FileKeyring) -> None:
    store = _store(tmp_path, keyring=file_keyring, passphrase=_passphrase())
    store.save("p", make_credentials(KEY_ID, SECRET))
    store.save("p", make_credentials("AKIAREPLACEDKEY00001", "replaced-secret"), store="file", replace=True)
    assert file_keyring.get_password("s3safe-auth", "p") is None
    assert store.load("p").secret_access_key == "replaced-secret"
    assert [p.store for p in store.profiles()] == ["file"]


def test_use_list_rm_and_default(tmp_path: Path, file_keyring: FileKeyring) -> None:
    store = _store(tmp_path, keyring=file_keyring)
    store.save("one", make_credentials(KEY_ID, SECRET))
    store.save("two", make_credentials("AKIAOTHERKEY00000002", "other-secret"))
    store.use("two")
    assert [(p.name, p.default) for p in store.profiles()] == [("one", False), ("two", True)]
    with pytest.raises(NotFoundError):
        store.use("three")
    store.remove("two")
    assert store.default() is None
    removed, problems = store.remove_all()
    assert [p.name for p in removed] == ["one"] and problems == []
    assert store.profiles() == [] and file_keyring.get_password("s3safe-auth", "one") is None


def test_keyring_profile_without_a_keyring_is_an_actionable_error(tmp_path: Path, file_keyring: FileKeyring) -> None:
    _store(tmp_path, keyring=file_keyring).save("k", make_credentials(KEY_ID, SECRET))
    with pytest.raises(AccessDeniedError, match="no usable keyring backend"):
        _store(tmp_path, keyring=None).load("k")


def test_unusable_keyring_backends_are_detected(monkeypatch: pytest.MonkeyPatch, file_keyring: FileKeyring) -> None:
    import keyring
    from keyring.backends import fail, null

    for backend, usable in ((fail.Keyring(), False), (null.Keyring(), False), (file_keyring, True)):
        monkeypatch.setattr(keyring.core, "_keyring_backend", backend)
        assert (usable_keyring() is not None) is usable


def test_selection_order(tmp_path: Path, file_keyring: FileKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    store = _store(tmp_path, keyring=file_keyring)
    store.save("saved", make_credentials(KEY_ID, SECRET))
    store.use("saved")
    directory = tmp_path / "cfg"
    monkeypatch.setattr(selection, "_choice", selection.AuthChoice())
    assert selection.selected_profile(aws_profile=None, environ={}, directory=directory) == "saved"
    assert selection.selected_profile(aws_profile="work", environ={}, directory=directory) is None
    assert selection.selected_profile(aws_profile=None, environ={"AWS_PROFILE": "x"}, directory=directory) is None
    assert selection.selected_profile(aws_profile=None, environ={"S3SAFE_AUTH": "other"}, directory=directory) == "other"
    assert selection.selected_profile(aws_profile=None, environ={"S3SAFE_AUTH": "none"}, directory=directory) is None
    selection.choose("flag")
    assert selection.selected_profile(aws_profile="work", environ={"S3SAFE_AUTH": "other"}, directory=directory) == "flag"
    with pytest.raises(UsageError):
        selection.choose("bad name")


def test_provider_goes_first_in_botocore_chain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT1")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "env-secret")
    monkeypatch.setattr(selection, "_choice", selection.AuthChoice())
    assert saved_profile_for(None) is None
    assert make_session(None, saved=None).get_credentials().access_key == "AKIAFROMENVIRONMENT1"  # no selection: the AWS chain
    selection.choose("prod")
    loaded: list[str] = []

    def loader(name: str) -> Credentials:
        loaded.append(name)
        return Credentials(KEY_ID, SECRET)

    session = make_session(None, saved=saved_profile_for(None, loader=loader))
    assert loaded == []  # nothing is unlocked before credentials are needed
    creds = session.get_credentials()
    assert (creds.access_key, creds.secret_key, creds.method) == (KEY_ID, SECRET, METHOD)
    assert loaded == ["prod"]


def test_credential_process_line_and_output(tmp_path: Path) -> None:
    program = [str(tmp_path / "dir with space" / "s3safe")]
    line = credential_process_line("prod", program=program, passphrase_file=tmp_path / "pw file")
    key, _, command = line.partition(" = ")
    assert key == "credential_process"
    if os.name == "posix":  # botocore splits the value like a POSIX shell
        assert shlex.split(command) == [
            *program,
            "auth",
            "credential-process",
            "prod",
            "--passphrase-file",
            str(tmp_path / "pw file"),
        ]
    output = Credentials(KEY_ID, SECRET, "tok").credential_process_output()
    assert output == {"Version": 1, "AccessKeyId": KEY_ID, "SecretAccessKey": SECRET, "SessionToken": "tok"}
