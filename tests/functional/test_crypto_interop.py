"""Interoperability with the stock tools: the age CLI (Debian package `age`), rage (pyrage) and pyAesCrypt.

Missing tools FAIL with an install hint (they are part of the test setup, not optional):
    apt-get install -y age          # /usr/bin/age, /usr/bin/age-keygen
    pip install pyAesCrypt pyrage   # test extras

age -p/-d read passphrases from the terminal only; the passphrase direction runs the CLI on a pseudo-terminal.
"""

from __future__ import annotations

import hashlib
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType

import pytest

from s3safe.core.errors import AccessDeniedError, IntegrityError
from s3safe.crypto import aescrypt, age, keys
from tests.unit import test_crypto_age_vectors as cctv

SIZES = [0, 1, 15, 16, 17, 65535, 65536, 65537, 3 * 65536 + 5]


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: run `apt-get install -y age` (Debian package 'age' gives /usr/bin/{name})")
    return path


def _module(name: str) -> ModuleType:
    try:
        return __import__(name)
    except ImportError:
        pytest.fail(f"{name} is not installed: run `.venv/bin/pip install {name}` (it belongs in the test extras)")


def _run(argv: Sequence[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(argv, capture_output=True, timeout=60, check=False, **kwargs)  # type: ignore[call-overload, no-any-return]


def _run_on_tty(argv: Sequence[str], answers: Sequence[str], timeout: float = 60) -> tuple[int, bytes]:
    """Run `argv` on a pseudo-terminal, typing one answer per "passphrase" prompt."""
    import pty

    pid, fd = pty.fork()
    if pid == 0:  # child
        try:
            os.execv(argv[0], list(argv))  # noqa: S606 (a fixed tool path, no shell involved)
        finally:
            os._exit(127)
    output, pending, answered = b"", list(answers), 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.2)
            if not ready:
                continue
            try:
                data = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                data = b""
            if not data:
                break
            output += data
            while pending and answered < output.lower().count(b"passphrase"):
                os.write(fd, pending.pop(0).encode() + b"\n")
                answered += 1
        else:
            os.kill(pid, 9)
    finally:
        _, status = os.waitpid(pid, 0)
        os.close(fd)
    return os.waitstatus_to_exitcode(status), output


def _write(path: Path, data: bytes | bytearray) -> Path:
    path.write_bytes(bytes(data))
    return path


def _output(path: Path) -> bytes:
    """What the age CLI wrote with -o (it creates no file at all for an empty plaintext)."""
    return path.read_bytes() if path.exists() else b""


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


# -- age CLI, X25519 -----------------------------------------------------------------------------------


@pytest.mark.parametrize("armor", [False, True])
def test_s3safe_files_decrypt_with_the_age_cli(work: Path, armor: bool) -> None:
    age_bin = _tool("age")
    identity_file = work / "identity.txt"
    recipient = keys.write_identity_file(identity_file)
    for size in SIZES:
        plain = work / f"plain-{size}"
        plain.write_bytes(os.urandom(size))
        encrypted = work / f"plain-{size}.age"
        age.encrypt_file(plain, encrypted, recipients=[recipient], armor=armor)
        result = _run([age_bin, "--decrypt", "-i", str(identity_file), "-o", str(work / "out"), str(encrypted)])
        assert result.returncode == 0, result.stderr
        assert _output(work / "out") == plain.read_bytes(), size
        (work / "out").unlink(missing_ok=True)


@pytest.mark.parametrize("armor", [False, True])
def test_age_cli_files_decrypt_with_s3safe(work: Path, armor: bool) -> None:
    age_bin, keygen = _tool("age"), _tool("age-keygen")
    identity_file = work / "key.txt"
    assert _run([keygen, "-o", str(identity_file)]).returncode == 0
    recipient = _run([keygen, "-y", str(identity_file)]).stdout.decode().strip()
    identities = keys.load_identity_file(identity_file)
    assert age.recipient_from_identity(identities[0]) == recipient
    for size in SIZES:
        plain = work / f"plain-{size}"
        plain.write_bytes(os.urandom(size))
        encrypted = work / f"plain-{size}.age"
        flags = ["-a"] if armor else []
        assert _run([age_bin, *flags, "-r", recipient, "-o", str(encrypted), str(plain)]).returncode == 0
        age.decrypt_file(encrypted, work / "out", identities=identities)
        assert (work / "out").read_bytes() == plain.read_bytes(), size


def test_age_cli_multi_recipient_file_and_wrong_identity(work: Path) -> None:
    age_bin = _tool("age")
    mine, my_recipient = age.generate_identity()
    _, other_recipient = age.generate_identity()
    plain = work / "plain"
    plain.write_bytes(b"for two readers")
    encrypted = work / "plain.age"
    argv = [age_bin, "-r", other_recipient, "-r", my_recipient, "-o", str(encrypted), str(plain)]
    assert _run(argv).returncode == 0
    age.decrypt_file(encrypted, work / "out", identities=[mine])
    assert (work / "out").read_bytes() == b"for two readers"
    with pytest.raises(AccessDeniedError):
        age.decrypt_file(encrypted, work / "denied", identities=[age.generate_identity()[0]])
    assert not (work / "denied").exists()


def test_keys_agree_with_age_keygen(work: Path) -> None:
    keygen = _tool("age-keygen")
    identity_file = work / "identity.txt"
    recipient = keys.write_identity_file(identity_file)
    assert _run([keygen, "-y", str(identity_file)]).stdout.decode().strip() == recipient
    (work / "cctv.txt").write_text(cctv.TEST_IDENTITY + "\n")
    expected = _run([keygen, "-y", str(work / "cctv.txt")]).stdout.decode().strip()
    assert age.recipient_from_identity(cctv.TEST_IDENTITY) == expected


def test_age_cli_refuses_what_s3safe_refuses(work: Path) -> None:
    age_bin = _tool("age")
    identity_file = work / "identity.txt"
    recipient = keys.write_identity_file(identity_file)
    plain = work / "plain"
    plain.write_bytes(os.urandom(70_000))
    encrypted = work / "plain.age"
    age.encrypt_file(plain, encrypted, recipients=[recipient])
    data = encrypted.read_bytes()
    for position in (30, len(data) // 2, len(data) - 1):
        damaged = work / "damaged.age"
        damaged.write_bytes(data[:position] + bytes([data[position] ^ 0x20]) + data[position + 1 :])
        assert _run([age_bin, "-d", "-i", str(identity_file), str(damaged)]).returncode != 0
        with pytest.raises((IntegrityError, AccessDeniedError)):
            age.decrypt_file(damaged, work / "out", identities=keys.load_identity_file(identity_file))
        assert not (work / "out").exists()


# -- the C2SP/CCTV-style vectors against the reference implementations ----------------------------------


REFUSED_SINCE = {"armor_empty_last_line": (1, 3)}  # age version that started refusing the vector


def _age_version(age_bin: str) -> tuple[int, ...]:
    text = _run([age_bin, "--version"]).stdout.decode().strip().lstrip("v")
    return tuple(int(part) for part in text.split(".")[:2] if part.isdigit())


@pytest.mark.parametrize("name", sorted(cctv.VECTORS))
def test_vector_expectations_match_the_reference(work: Path, name: str) -> None:
    vector = cctv.build(name)
    if name == "scrypt_work_factor_23":
        # a decryptor policy rather than format validity: rage has no cap (it would spend ~40 s and 8 GiB),
        # the age CLI has the same cap as s3safe and refuses at once
        started = time.monotonic()
        code, _ = _run_on_tty([_tool("age"), "-d", "-o", str(work / "out"), str(_write(work / "in", vector.buf))], ["x"])
        assert code != 0 and time.monotonic() - started < 10
        return
    if vector.passphrases:  # the age CLI wants a terminal for these; rage (pyrage) decides instead
        pyrage = _module("pyrage")
        try:
            out = pyrage.passphrase.decrypt(bytes(vector.buf), vector.passphrases[0])
        except Exception:
            assert vector.expect != "success", f"rage refused {name}"
        else:
            assert vector.expect == "success", f"rage accepted {name}"
            assert hashlib.sha256(out).digest() == hashlib.sha256(vector.payload).digest()
        return
    age_bin = _tool("age")
    identity_file = work / "identities.txt"
    identity_file.write_text("\n".join(vector.identities or [age.generate_identity()[0]]) + "\n")
    (work / "in").write_bytes(bytes(vector.buf))
    result = _run([age_bin, "-d", "-i", str(identity_file), "-o", str(work / "out"), str(work / "in")])
    since = REFUSED_SINCE.get(name)
    if since is not None and _age_version(age_bin) < since:
        # the rule is newer than this age CLI: it still accepts the vector, s3safe follows the newer age
        assert result.returncode == 0, f"age CLI {_age_version(age_bin)} refused {name}: {result.stderr!r}"
        return
    if vector.expect == "success":
        assert result.returncode == 0, f"age CLI refused {name}: {result.stderr!r}"
        assert _output(work / "out") == bytes(vector.payload)
    else:
        assert result.returncode != 0, f"age CLI accepted {name} (expected {vector.expect})"


# -- scrypt passphrases --------------------------------------------------------------------------------


def test_passphrase_files_interoperate_with_rage(work: Path) -> None:
    pyrage = _module("pyrage")
    plaintext = os.urandom(100_000)
    plain = work / "plain"
    plain.write_bytes(plaintext)
    age.encrypt_file(plain, work / "s3safe.age", passphrase="über passphrase", work_factor=12)
    assert pyrage.passphrase.decrypt((work / "s3safe.age").read_bytes(), "über passphrase") == plaintext
    (work / "rage.age").write_bytes(pyrage.passphrase.encrypt(plaintext, "über passphrase"))
    age.decrypt_file(work / "rage.age", work / "out", passphrase="über passphrase")
    assert (work / "out").read_bytes() == plaintext
    with pytest.raises(AccessDeniedError, match="wrong passphrase"):
        age.decrypt_file(work / "s3safe.age", work / "denied", passphrase="unter passphrase")
    assert not (work / "denied").exists()


def test_passphrase_files_interoperate_with_the_age_cli_on_a_terminal(work: Path) -> None:
    age_bin = _tool("age")
    plain = work / "plain"
    plain.write_bytes(os.urandom(70_000))
    age.encrypt_file(plain, work / "s3safe.age", passphrase="tty passphrase", work_factor=12)
    code, output = _run_on_tty([age_bin, "-d", "-o", str(work / "out"), str(work / "s3safe.age")], ["tty passphrase"])
    assert code == 0, output
    assert (work / "out").read_bytes() == plain.read_bytes()
    code, output = _run_on_tty([age_bin, "-p", "-o", str(work / "cli.age"), str(plain)], ["tty passphrase"] * 2)
    assert code == 0, output
    assert (work / "cli.age").read_bytes().split(b"\n")[1].startswith(b"-> scrypt ")
    age.decrypt_file(work / "cli.age", work / "back", passphrase="tty passphrase")
    assert (work / "back").read_bytes() == plain.read_bytes()


def test_passphrase_protected_identity_file_opens_with_the_age_cli(work: Path) -> None:
    age_bin = _tool("age")
    protected = work / "identity.age"
    recipient = keys.write_identity_file(protected, passphrase="identity pass", work_factor=12)
    code, output = _run_on_tty([age_bin, "-d", "-o", str(work / "identity.txt"), str(protected)], ["identity pass"])
    assert code == 0, output
    assert f"# public key: {recipient}" in (work / "identity.txt").read_text()


# -- AES Crypt -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_pyaescrypt_v2_files_decrypt_with_s3safe(work: Path, size: int) -> None:
    pyaescrypt = _module("pyAesCrypt")
    plain = work / "plain"
    plain.write_bytes(os.urandom(size))
    pyaescrypt.encryptFile(str(plain), str(work / "plain.aes"), "pässwörd €")
    assert (work / "plain.aes").read_bytes()[:4] == b"AES\x02"
    aescrypt.decrypt_file(work / "plain.aes", work / "out", "pässwörd €")
    assert (work / "out").read_bytes() == plain.read_bytes()
    with pytest.raises(AccessDeniedError):
        aescrypt.decrypt_file(work / "plain.aes", work / "denied", "passwörd €")
    assert not (work / "denied").exists()


def test_s3safe_v3_files_and_pyaescrypt(work: Path) -> None:
    """pyAesCrypt 6 reads only v2 and s3safe never writes v2: it must refuse cleanly (and, should a later
    release read v3, produce the same plaintext)."""
    pyaescrypt = _module("pyAesCrypt")
    plain = work / "plain"
    plain.write_bytes(os.urandom(1000))
    aescrypt.encrypt_file(plain, work / "plain.aes", "pw-pw-pw", iterations=1000)
    refusal = ""
    try:
        pyaescrypt.decryptFile(str(work / "plain.aes"), str(work / "out"), "pw-pw-pw")
    except ValueError as exc:
        refusal = str(exc)
    if refusal:
        assert "version" in refusal
        assert not (work / "out").exists()
    else:
        assert (work / "out").read_bytes() == plain.read_bytes()


def test_s3safe_files_decrypt_in_a_fresh_process(work: Path) -> None:
    plain = work / "plain"
    plain.write_bytes(os.urandom(200_000))
    aescrypt.encrypt_file(plain, work / "plain.aes", "fresh process", iterations=10_000)
    secret, recipient = age.generate_identity()
    age.encrypt_file(plain, work / "plain.age", recipients=[recipient])
    script = (
        "import sys\n"
        "from s3safe.crypto import aescrypt, age\n"
        "h = aescrypt.decrypt_file(sys.argv[1] + '/plain.aes', sys.argv[1] + '/a.out', 'fresh process')\n"
        "age.decrypt_file(sys.argv[1] + '/plain.age', sys.argv[1] + '/b.out', identities=[sys.argv[2]])\n"
    )
    result = _run([sys.executable, "-c", script, str(work), secret])
    assert result.returncode == 0, result.stderr
    assert (work / "a.out").read_bytes() == (work / "b.out").read_bytes() == plain.read_bytes()
