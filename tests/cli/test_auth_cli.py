"""auth save|use|list|rm|export-credential-process as a user runs them, against the real moto server.

Keyring path: PYTHON_KEYRING_BACKEND names `tests.file_keyring.FileKeyring`, a real `keyring` backend class
that keeps entries in a JSON file under the test's tmp_path, so `keyring` itself loads and drives it in each
fresh s3safe process. No real user keyring is touched (HOME is a fake one, see tests/conftest.py).
Fallback path: PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring, i.e. "no keyring backend at all".

moto checks no signatures, so which credentials signed a request is read from the Authorization headers
that moto's request recorder saw.
"""

from __future__ import annotations

import configparser
import json
import os
import re
import stat
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
REPO = Path(__file__).resolve().parents[2]
KEY_ID = "AKIAS3SAFECLITEST0QRS"
SECRET = "cli-test-secret-9fJ2/kq+Lw0Zz"
PASSPHRASE = "a long test passphrase 42"


def _signed_with(moto: MotoServer) -> set[str]:
    """The access key ids of every request moto recorded."""
    ids = set()
    for request in moto.stop_recording():
        auth = {k.lower(): v for k, v in request["headers"].items()}.get("authorization", "")
        ids.add(auth.split("Credential=", 1)[1].split("/", 1)[0] if "Credential=" in auth else "(unsigned)")
    return ids


def _no_secret(*results: CompletedProcess[str]) -> None:
    for result in results:
        for stream in (result.stdout, result.stderr):
            assert SECRET not in stream and KEY_ID not in stream and KEY_ID[:-4] not in stream


@pytest.fixture
def keyring_env(tmp_path: Path) -> dict[str, str]:
    return {
        # src first: the s3safe under test, not whichever the venv has installed (tests.file_keyring from REPO)
        "PYTHONPATH": os.pathsep.join((str(REPO / "src"), str(REPO))),
        "PYTHON_KEYRING_BACKEND": "tests.file_keyring.FileKeyring",
        "S3SAFE_TEST_KEYRING_FILE": str(tmp_path / "test-keyring.json"),
    }


@pytest.fixture
def fallback_env() -> dict[str, str]:
    return {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring", "S3SAFE_PASSPHRASE": PASSPHRASE}


@pytest.fixture
def on_moto(run_cli: Run, moto_server: MotoServer) -> Run:
    """s3safe against moto with NO credentials in the environment: only a saved profile can sign."""

    def run(*args: str, env: dict[str, str] | None = None, input_text: str | None = None) -> CompletedProcess[str]:
        return run_cli("--endpoint-url", moto_server.endpoint_url, "--allow-http", *args, env=env, input_text=input_text)

    return run


def test_keyring_profile_is_used_by_later_commands_and_never_shown(
    on_moto: Run, moto_server: MotoServer, keyring_env: dict[str, str], bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    saved = on_moto("auth", "save", "work", input_text=f"{KEY_ID}\n{SECRET}\n", env=keyring_env)
    assert saved.returncode == 0, saved.stderr
    assert "saved profile work (key ****0QRS) in OS keyring (file keyring FileKeyring)" in saved.stdout
    assert SECRET in (tmp_path / "test-keyring.json").read_text()  # it went to the keyring backend

    bucket = bucket_name()
    no_default = on_moto("ls", env=keyring_env)
    assert no_default.returncode == 4 and "no AWS credentials found" in no_default.stderr

    used = on_moto("auth", "use", "work", env=keyring_env)
    assert used.returncode == 0 and "default profile: work (key ****0QRS)" in used.stdout
    moto_server.start_recording()
    made = on_moto("--debug", "mb", f"s3://{bucket}", env=keyring_env)  # a fresh process, credentials from the keyring
    listed = on_moto("ls", env=keyring_env)
    assert made.returncode == 0, made.stderr
    assert listed.returncode == 0 and bucket in listed.stdout
    assert _signed_with(moto_server) == {KEY_ID}
    assert "botocore" in made.stderr  # debug logging really ran, and still shows no secret

    table = on_moto("auth", "list", env=keyring_env)
    as_json = on_moto("--json", "auth", "list", env=keyring_env)
    assert table.returncode == 0 and "****0QRS" in table.stdout and "keyring" in table.stdout
    record = json.loads(as_json.stdout)
    assert record["name"] == "work" and record["key_id"] == "****0QRS" and record["default"] is True
    _no_secret(saved, used, made, listed, table, as_json)
    in_utc = on_moto("--utc", "auth", "list", env=keyring_env)  # the saved time follows --utc like every time (rt17 #9)
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", in_utc.stdout), in_utc.stdout

    ignored = on_moto("--auth", "none", "ls", env=keyring_env)
    assert ignored.returncode == 4  # the saved default is skipped: no credentials at all
    unknown = on_moto("ls", env={**keyring_env, "S3SAFE_AUTH": "nosuch"})
    assert unknown.returncode == 3 and "no saved profile named 'nosuch'" in unknown.stderr


def test_fallback_file_is_encrypted_0600_and_unlocked_by_the_passphrase(
    on_moto: Run, moto_server: MotoServer, fallback_env: dict[str, str], isolated_env: Path
) -> None:
    saved = on_moto("auth", "save", "fb", input_text=f"{KEY_ID}\n{SECRET}\n", env=fallback_env)
    assert saved.returncode == 0, saved.stderr
    assert "no usable OS keyring backend" in saved.stderr
    vault = isolated_env / "s3safe-config" / "auth.age"
    data = vault.read_bytes()
    assert stat.S_IMODE(vault.stat().st_mode) == 0o600
    assert data.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")
    for plain in (SECRET, KEY_ID, KEY_ID[-4:], "secret_access_key"):
        assert plain.encode() not in data
    index = (isolated_env / "s3safe-config" / "auth.json").read_text()
    assert SECRET not in index and KEY_ID not in index

    moto_server.start_recording()
    listed = on_moto("--auth", "fb", "ls", env=fallback_env)
    assert listed.returncode == 0, listed.stderr
    assert _signed_with(moto_server) == {KEY_ID}

    wrong = on_moto("--auth", "fb", "ls", env={**fallback_env, "S3SAFE_PASSPHRASE": "not it"})
    assert wrong.returncode == 4 and "wrong passphrase" in wrong.stderr
    missing = on_moto("--auth", "fb", "ls", env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"})
    assert missing.returncode == 4 and "S3SAFE_PASSPHRASE" in missing.stderr
    _no_secret(saved, listed, wrong, missing, on_moto("auth", "list", env=fallback_env))


def test_credential_process_export_works_for_botocore(
    on_moto: Run, moto_server: MotoServer, keyring_env: dict[str, str], isolated_env: Path
) -> None:
    assert on_moto("auth", "save", "ci", input_text=f"{KEY_ID}\n{SECRET}\n", env=keyring_env).returncode == 0
    exported = on_moto("auth", "export-credential-process", "ci", env=keyring_env)
    assert exported.returncode == 0, exported.stderr
    header, line = exported.stdout.strip().splitlines()
    assert header == "[profile ci]", exported.stdout  # appended as the --help shows, it opens its own section (rt17 #6)
    assert line.startswith("credential_process = ") and line.endswith(" auth credential-process ci")
    _no_secret(exported)

    printed = on_moto("auth", "credential-process", "ci", env=keyring_env)
    assert json.loads(printed.stdout) == {"Version": 1, "AccessKeyId": KEY_ID, "SecretAccessKey": SECRET}

    # botocore runs the exported command for an ordinary AWS profile; no saved default is involved. Appended
    # (`>> ~/.aws/config`) after another profile without a final newline, it must not become that profile's
    config = isolated_env / "aws-config"
    config.write_text("[profile other]\nregion = eu-west-1")
    with config.open("a") as appended:
        appended.write(exported.stdout)
    sections = configparser.ConfigParser()
    sections.read(config)
    assert "credential_process" not in sections["profile other"] and "credential_process" in sections["profile ci"]
    moto_server.start_recording()
    listed = on_moto("--profile", "ci", "ls", env=keyring_env)
    assert listed.returncode == 0, listed.stderr
    assert _signed_with(moto_server) == {KEY_ID}
    _no_secret(listed)


def test_credential_process_ignores_a_plain_http_endpoint_it_never_uses(
    on_moto: Run, run_cli: Run, keyring_env: dict[str, str]
) -> None:
    """The AWS CLI runs `s3safe auth credential-process` with its own environment, where AWS_ENDPOINT_URL may
    name a local http:// store; s3safe sends no request there and must hand over the credentials."""
    assert on_moto("auth", "save", "ci", input_text=f"{KEY_ID}\n{SECRET}\n", env=keyring_env).returncode == 0
    env = {**keyring_env, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}
    printed = run_cli("auth", "credential-process", "ci", env=env)
    assert printed.returncode == 0, printed.stderr
    assert json.loads(printed.stdout) == {"Version": 1, "AccessKeyId": KEY_ID, "SecretAccessKey": SECRET}
    listed = run_cli("auth", "list", env=env)
    assert listed.returncode == 0 and "ci" in listed.stdout, listed.stderr
    assert "plain HTTP" not in printed.stderr + listed.stderr


def test_keys_are_never_taken_from_argv_and_rm(
    on_moto: Run, keyring_env: dict[str, str], fallback_env: dict[str, str], tmp_path: Path
) -> None:
    refused = on_moto("auth", "save", "x", KEY_ID, SECRET, env=keyring_env)
    assert refused.returncode == 2 and "never taken from the command line" in refused.stderr
    _no_secret(refused)
    options = re.findall(r"--[a-z-]+", on_moto("auth", "save", "--help").stdout)
    assert "--store" in options and not [o for o in options if "secret" in o or "key" in o]

    assert on_moto("auth", "save", "k1", input_text=f"{KEY_ID}\n{SECRET}\n", env=keyring_env).returncode == 0
    again = on_moto("auth", "save", "k1", input_text=f"{KEY_ID}\n{SECRET}\n", env=keyring_env)
    assert again.returncode == 2 and "--force" in again.stderr
    removed = on_moto("auth", "rm", "--all", env=keyring_env)
    assert removed.returncode == 0 and "removed profile k1" in removed.stdout
    assert json.loads((tmp_path / "test-keyring.json").read_text()) == {}
    gone = on_moto("auth", "rm", "k1", env=keyring_env)
    assert gone.returncode == 3
