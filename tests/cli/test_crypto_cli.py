"""Client-side encryption as a user runs it: keygen, encrypt, decrypt, put/get --encrypt, exit codes on
tampering and wrong keys, interoperability with the stock age CLI, and the README's restore recipe."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from s3safe.crypto import age
from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
REPO = Path(__file__).resolve().parents[2]
AWS_CLI = Path(os.environ.get("S3SAFE_TEST_AWS_CLI", REPO / ".venv-awscli" / "bin" / "aws"))
MARKER = b"PLAINTEXT-MARKER-91c2"


def _one_line_error(result: CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr + result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.fixture
def identity(run_cli: Run, tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "keys" / "identity.txt"
    result = run_cli("--json", "keygen", "-o", str(path))
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout.splitlines()[0])
    assert record["identity_file"] == str(path) and record["recipient"].startswith("age1")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    secret = path.read_text()
    assert "AGE-SECRET-KEY-1" in secret and "AGE-SECRET-KEY" not in result.stdout + result.stderr
    return path, record["recipient"]


def test_keygen_refuses_to_overwrite_and_protects_with_a_passphrase(run_cli: Run, identity: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = identity
    before = path.read_bytes()
    again = run_cli("keygen", "-o", str(path))
    assert again.returncode == 2 and "already exists" in _one_line_error(again)
    assert path.read_bytes() == before
    protected = tmp_path / "protected.txt"
    made = run_cli("keygen", "-o", str(protected), "--protect", env={"S3SAFE_PASSPHRASE": "pass-for-the-identity-file"})
    assert made.returncode == 0, made.stderr
    assert protected.read_bytes().startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")
    assert b"AGE-SECRET-KEY" not in protected.read_bytes()


def test_post_quantum_keygen_encrypt_and_decrypt(run_cli: Run, tmp_path: Path) -> None:
    """keygen --pq makes an age 1.3 hybrid identity; files encrypted to its age1pq1… recipient open with it."""
    key = tmp_path / "pq.txt"
    made = run_cli("--json", "keygen", "--pq", "-o", str(key))
    assert made.returncode == 0, made.stderr
    recipient = json.loads(made.stdout.splitlines()[0])["recipient"]
    assert recipient.startswith("age1pq1") and "AGE-SECRET-KEY-PQ-1" in key.read_text()
    plain = tmp_path / "report.txt"
    plain.write_bytes(MARKER * 100)
    assert run_cli("encrypt", "-r", recipient, str(plain)).returncode == 0
    sealed = tmp_path / "report.txt.age"
    assert b"-> mlkem768x25519 " in sealed.read_bytes() and MARKER not in sealed.read_bytes()
    plain.unlink()
    opened = run_cli("decrypt", "-i", str(key), str(sealed))
    assert opened.returncode == 0, opened.stderr
    assert plain.read_bytes() == MARKER * 100


def test_encrypt_for_the_age_cli_and_decrypt_what_it_made(run_cli: Run, identity: tuple[Path, str], tmp_path: Path) -> None:
    key, recipient = identity
    plain = tmp_path / "report.txt"
    plain.write_bytes(MARKER * 1000)
    done = run_cli("encrypt", "-r", recipient, str(plain))
    assert done.returncode == 0, done.stderr
    sealed = tmp_path / "report.txt.age"
    assert MARKER not in sealed.read_bytes()
    opened = subprocess.run(["age", "--decrypt", "--identity", str(key), str(sealed)], capture_output=True, check=False)
    assert opened.returncode == 0 and opened.stdout == plain.read_bytes()
    # and the reverse: a file the age CLI encrypted, opened by s3safe decrypt (format and suffix detected)
    theirs = tmp_path / "theirs.bin.age"
    subprocess.run(["age", "--encrypt", "--recipient", recipient, "--output", str(theirs), str(plain)], check=True)
    result = run_cli("decrypt", "-i", str(key), str(theirs))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "theirs.bin").read_bytes() == plain.read_bytes()


def test_aescrypt_v2_from_pyaescrypt_and_v3_from_s3safe(run_cli: Run, tmp_path: Path) -> None:
    import pyAesCrypt  # type: ignore[import-untyped]

    plain = tmp_path / "legacy.txt"
    plain.write_bytes(MARKER * 77)
    pyAesCrypt.encryptFile(str(plain), str(tmp_path / "v2.txt.aes"), "s3express-pass", 64 * 1024)
    assert (tmp_path / "v2.txt.aes").read_bytes()[:4] == b"AES\x02"
    env = {"S3SAFE_PASSPHRASE": "s3express-pass"}
    result = run_cli("decrypt", str(tmp_path / "v2.txt.aes"), env=env)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "v2.txt").read_bytes() == plain.read_bytes()
    made = run_cli("encrypt", "--to", "aescrypt", str(plain), "-o", str(tmp_path / "v3.aes"), env=env)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / "v3.aes").read_bytes()[:4] == b"AES\x03"
    back = run_cli("decrypt", str(tmp_path / "v3.aes"), "-o", str(tmp_path / "v3.out"), env=env)
    assert back.returncode == 0 and (tmp_path / "v3.out").read_bytes() == plain.read_bytes()
    assert "s3express-pass" not in made.stdout + made.stderr + back.stdout + back.stderr


@pytest.mark.parametrize("fmt", ["age", "aescrypt"])
def test_damage_and_wrong_keys_give_4_or_6_and_no_file(run_cli: Run, identity: tuple[Path, str], tmp_path: Path, fmt: str) -> None:
    key, recipient = identity
    plain = tmp_path / "data.bin"
    plain.write_bytes(os.urandom(200_000))
    env = {"S3SAFE_PASSPHRASE": "the-right-passphrase"}
    args = ("-r", recipient) if fmt == "age" else ("--to", "aescrypt")
    assert run_cli("encrypt", *args, str(plain), "-o", str(tmp_path / "good"), env=env).returncode == 0
    good = (tmp_path / "good").read_bytes()
    decrypt = ("-i", str(key)) if fmt == "age" else ()
    size = len(good)
    cases = {f"flip@{pos}": bytearray(good) for pos in (5, 60, 200, size // 2, size - 1)}
    for name, data in cases.items():
        data[int(name.split("@")[1])] ^= 0x40
    cases["truncated"] = bytearray(good[: size - 100])
    cases["cut-at-header"] = bytearray(good[:40])
    for name, data in cases.items():
        bad = tmp_path / f"{name}.bin"
        bad.write_bytes(bytes(data))
        out = tmp_path / f"{name}.out"
        result = run_cli("decrypt", *decrypt, str(bad), "-o", str(out), env=env)
        if fmt == "aescrypt" and name == "flip@60":
            # inside the 128-byte container extension, which the AES Crypt format leaves unauthenticated
            # (it carries no data): the plaintext, which is authenticated, still comes out exactly right
            container = good.index(bytes(127))
            assert container <= 60 < container + 127
            assert result.returncode == 0 and out.read_bytes() == plain.read_bytes()
            continue
        assert result.returncode in (4, 6), (name, result.returncode, result.stderr)
        _one_line_error(result)
        assert not out.exists(), name
        assert not list(tmp_path.glob(f".{name}.out*")), name
    # wrong key: exit 4
    wrong_env = {"S3SAFE_PASSPHRASE": "not-the-passphrase"}
    other = tmp_path / "other-id.txt"
    assert run_cli("keygen", "-o", str(other)).returncode == 0
    wrong = ("-i", str(other)) if fmt == "age" else ()
    result = run_cli("decrypt", *wrong, str(tmp_path / "good"), "-o", str(tmp_path / "wrong.out"), env=wrong_env)
    assert result.returncode == 4, result.stderr
    assert f"error: {tmp_path / 'good'}: " in result.stderr  # names the file it could not open (rt17 #9)
    assert not (tmp_path / "wrong.out").exists()


def test_passphrases_are_never_taken_from_argv(run_cli: Run, tmp_path: Path) -> None:
    (tmp_path / "f").write_text("x")
    result = run_cli("encrypt", "--to", "aescrypt", "--passphrase", "hunter2", str(tmp_path / "f"))
    assert result.returncode == 2 and "No such option" in result.stderr
    scripted = run_cli("encrypt", "--to", "aescrypt", str(tmp_path / "f"), env={"S3SAFE_PASSPHRASE": ""})
    # an empty S3SAFE_PASSPHRASE is a passphrase-source problem: exit 4, like every other (test_passphrase_sources.py)
    assert scripted.returncode == 4 and "passphrase" in _one_line_error(scripted)


@pytest.fixture
def moto_cli(run_cli: Run, moto: MotoServer) -> Run:
    def run(*args: str, env: dict[str, str] | None = None) -> CompletedProcess[str]:
        return run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", *args, env=env)

    return run


def _tree(root: Path) -> dict[str, bytes]:
    files = {"a.txt": MARKER + b" one", "sub/b.txt": MARKER * 3000, "sub/deeper/c.bin": os.urandom(100) + MARKER}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_put_encrypt_then_get_and_sync_through_the_cli(
    moto_cli: Run, identity: tuple[Path, str], tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    key, recipient = identity
    bucket = bucket_name()
    assert moto_cli("mb", f"s3://{bucket}").returncode == 0
    src = tmp_path / "src"
    files = _tree(src)
    put = moto_cli("put", "-r", "--only-diff", "--recipient", recipient, str(src), f"s3://{bucket}/bk/")
    assert put.returncode == 0, put.stderr
    assert (Path(os.environ["S3SAFE_CONFIG_DIR"]) / "digest.key").stat().st_mode & 0o077 == 0
    listed = moto_cli("--json", "ls", "-r", f"s3://{bucket}/bk/", "--where", "s3_client_encrypted = true")
    assert sorted(json.loads(line)["key"] for line in listed.stdout.splitlines() if '"key"' in line) == sorted(f"bk/{k}" for k in files)
    # nothing changed: nothing is sent
    again = moto_cli("--json", "sync", str(src), f"s3://{bucket}/bk/", "--recipient", recipient)
    summary = json.loads(again.stdout.splitlines()[-1])
    assert summary["transferred"] == 0 and summary["skipped"] == len(files)
    # no key: a clear error, exit 4 (single file) / 5 (tree), nothing written
    out = tmp_path / "out"
    missing = moto_cli("get", f"s3://{bucket}/bk/a.txt", str(tmp_path / "a.txt"), env={"S3SAFE_IDENTITY_FILE": ""})
    assert missing.returncode == 4 and "age encrypted" in _one_line_error(missing)
    assert not (tmp_path / "a.txt").exists()
    got = moto_cli("get", "-r", f"s3://{bucket}/bk/", str(out), env={"S3SAFE_IDENTITY_FILE": str(key)})
    assert got.returncode == 0, got.stderr
    assert _files(out) == files
    raw = moto_cli("get", "--no-decrypt", f"s3://{bucket}/bk/a.txt", str(tmp_path / "raw"))
    assert raw.returncode == 0 and (tmp_path / "raw").read_bytes().startswith(b"age-encryption.org/v1")
    wrong = moto_cli("sync", f"s3://{bucket}/bk/", str(out), "--recipient", recipient)
    assert wrong.returncode == 2 and "apply to uploads" in _one_line_error(wrong)


def _recipe() -> str:
    text = (REPO / "README.md").read_text()
    found = re.search(r"<!-- restore-recipe -->\n```sh\n(.*?)```\n<!-- /restore-recipe -->", text, re.S)
    assert found, "README lost its restore recipe"
    return found.group(1)


RECIPE_SHELLS = {"dash": ["dash", "-c"], "bash-strict": ["bash", "-euo", "pipefail", "-c"]}


def _awkward_tree(root: Path) -> dict[str, bytes]:
    """_tree plus what broke the recipe (issue 20.7): empty files (age 1.1 writes no output for them), one
    sorted first so a strict shell meets it before anything else, and names with spaces and a newline."""
    files = {**_tree(root), "0-empty.txt": b"", "sub/also empty": b"", "with space/two  spaces.txt": MARKER}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


@pytest.mark.parametrize("shell", sorted(RECIPE_SHELLS))
def test_readme_restore_recipe_with_only_the_aws_cli_and_age(
    moto_cli: Run, moto: MotoServer, identity: tuple[Path, str], tmp_path: Path, bucket_name: Callable[[], str], shell: str
) -> None:
    """The README's block runs verbatim under POSIX sh (dash) and under bash -euo pipefail."""
    assert AWS_CLI.exists(), f"the AWS CLI is installed by 'make awscli' ({AWS_CLI})"
    assert shutil.which("age"), "age is installed by 'make system-deps'"
    assert shutil.which(RECIPE_SHELLS[shell][0]), f"{RECIPE_SHELLS[shell][0]} is a Debian essential package"
    key, recipient = identity
    bucket = bucket_name()
    assert moto_cli("mb", f"s3://{bucket}").returncode == 0
    src = tmp_path / "src"
    files = _awkward_tree(src)
    put = moto_cli("put", "-r", "--recipient", recipient, str(src), f"s3://{bucket}/nightly/")
    assert put.returncode == 0, put.stderr
    work = tmp_path / "restore-here"
    work.mkdir()
    # names with newlines: neither s3safe's put nor moto takes such a key today, so this ciphertext is placed
    # where the recipe's download puts objects; the shell part that handles names is what is tested here
    odd = work / "encrypted" / "new\nline" / "file\nname.txt"
    odd.parent.mkdir(parents=True)
    odd.write_bytes(_age_bytes(MARKER * 2, recipient))
    files["new\nline/file\nname.txt"] = MARKER * 2
    shutil.copy(key, work / "identity.txt")
    env = {
        **os.environ, "BUCKET": bucket, "PREFIX": "nightly/", "AWS_ENDPOINT_URL": moto.endpoint_url,
        "AWS_ACCESS_KEY_ID": os.environ["AWS_ACCESS_KEY_ID"], "AWS_SECRET_ACCESS_KEY": os.environ["AWS_SECRET_ACCESS_KEY"],
        "AWS_DEFAULT_REGION": "us-east-1", "PATH": f"{AWS_CLI.parent}{os.pathsep}{os.environ['PATH']}",
    }  # fmt: skip
    done = subprocess.run([*RECIPE_SHELLS[shell], _recipe()], cwd=work, env=env, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert _files(work / "restored") == files


def test_readme_restore_recipe_reports_a_file_it_cannot_decrypt(tmp_path: Path) -> None:
    """A damaged object is named on stderr, left out of restored/, the others restored, and the exit is not 0."""
    work = tmp_path / "w"
    (work / "bin").mkdir(parents=True)
    (work / "bin" / "aws").write_text("#!/bin/sh\nexit 0\n")  # the objects are already "downloaded" below
    (work / "bin" / "aws").chmod(0o755)
    key, recipient = age.generate_identity()
    (work / "identity.txt").write_text(key + "\n")
    (work / "encrypted").mkdir()
    good, bad = work / "encrypted" / "good.txt", work / "encrypted" / "bad.txt"
    good.write_bytes(_age_bytes(b"fine", recipient))
    bad.write_bytes(_age_bytes(b"damaged", recipient)[:-1])
    env = {**os.environ, "BUCKET": "b", "PREFIX": "p/", "PATH": f"{work / 'bin'}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(["dash", "-c", _recipe()], cwd=work, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode != 0
    assert "not restored: encrypted/bad.txt" in done.stderr
    assert _files(work / "restored") == {"good.txt": b"fine"}


def _age_bytes(plaintext: bytes, recipient: str) -> bytes:
    out = io.BytesIO()
    age.encrypt_stream(io.BytesIO(plaintext), out, recipients=[recipient])
    return out.getvalue()


def test_get_into_a_new_folder_named_with_a_trailing_slash(moto_cli: Run, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    bucket = bucket_name()
    assert moto_cli("mb", f"s3://{bucket}").returncode == 0
    (tmp_path / "k.txt").write_bytes(b"content")
    assert moto_cli("put", str(tmp_path / "k.txt"), f"s3://{bucket}/").returncode == 0
    result = moto_cli("get", f"s3://{bucket}/k.txt", f"{tmp_path}/restored/")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "restored" / "k.txt").read_bytes() == b"content"  # a folder, not a file named 'restored'
    to_file = moto_cli("get", f"s3://{bucket}/k.txt", str(tmp_path / "copy.txt"))
    assert to_file.returncode == 0 and (tmp_path / "copy.txt").read_bytes() == b"content"


def test_decrypt_can_be_told_a_lower_scrypt_limit_for_a_file_it_does_not_trust(run_cli: Run, tmp_path: Path) -> None:
    """Found by an outside tester: `decrypt` spent 28 s and 4.2 GB on a hand-edited header asking for work factor 22,
    and its error for a higher factor pointed at a --max-work-factor option decrypt did not have."""
    from tests.faults.test_scrypt_limits import hostile_age

    hostile = tmp_path / "hostile.age"
    hostile.write_bytes(hostile_age(22))
    (tmp_path / "pw").write_text("correct horse battery staple\n")
    args = ("decrypt", "--passphrase-file", str(tmp_path / "pw"), "-o", str(tmp_path / "out"))
    refused = run_cli(*args, "--max-work-factor", "18", str(hostile))
    assert refused.returncode != 0 and "Traceback" not in refused.stderr, refused.stderr
    assert "work factor 22" in refused.stderr and "limit 18" in refused.stderr, refused.stderr
    assert not (tmp_path / "out").exists()
    bad = run_cli(*args, "--max-work-factor", "23", str(hostile))
    assert bad.returncode == 2 and "between 1 and 22" in bad.stderr, bad.stderr


def test_the_identity_keygen_just_made_is_found_by_decrypt_and_get(
    moto_cli: Run, run_cli: Run, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    made = run_cli("--json", "keygen")  # no -o: its default place, as `age-keygen`/`ssh-keygen` users expect
    assert made.returncode == 0, made.stderr
    record = json.loads(made.stdout.splitlines()[0])
    assert Path(record["identity_file"]) == Path(os.environ["S3SAFE_CONFIG_DIR"]) / "identity.txt"
    plain = tmp_path / "note.txt"
    plain.write_bytes(MARKER)
    assert run_cli("encrypt", "-r", record["recipient"], str(plain)).returncode == 0
    plain.unlink()
    opened = run_cli("decrypt", str(tmp_path / "note.txt.age"))  # no --identity, no S3SAFE_IDENTITY_FILE
    assert opened.returncode == 0, opened.stderr
    assert plain.read_bytes() == MARKER

    bucket = bucket_name()
    assert moto_cli("mb", f"s3://{bucket}").returncode == 0
    assert moto_cli("put", "--recipient", record["recipient"], str(plain), f"s3://{bucket}/n.txt").returncode == 0
    got = moto_cli("get", f"s3://{bucket}/n.txt", str(tmp_path / "back.txt"))
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "back.txt").read_bytes() == MARKER
