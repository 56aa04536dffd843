"""Secret-leak scan: known dummy secrets go in by their proper channels (environment, passphrase variable,
a pre-signed URL's signature pasted into commands); a representative set of commands runs with --verbose,
--debug and --json, successes and error paths alike; none of the secrets may appear in stdout, stderr, any
file s3safe wrote under HOME (config, state, journals' neighbours), or the process title while it runs.

SSE-C keys (HTTPS only, so not on this plain-HTTP moto): tests/functional/test_sse_c.py scans the same way.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tests.conftest import S3SAFE
from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]

ACCESS_KEY = "AKIALEAKTESTKEY7Q2Z"
SECRET_KEY = "leak-test-secret-Hx81Lq9Zv0RtY7pWm3Kd5sF"
SESSION_TOKEN = "FQoGZXIvYXdzLEAKTESTsessionTOKEN0123456789abcdefGHIJ"
PASSPHRASE = "correct horse leak-test battery 4711"


def _secrets_in(text: str, secrets: list[str]) -> list[str]:
    return [s for s in secrets if s in text]


def test_no_secret_reaches_output_files_or_the_process_title(
    run_cli: Run, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    env = {"AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY, "AWS_SESSION_TOKEN": SESSION_TOKEN,
           "S3SAFE_PASSPHRASE": PASSPHRASE}  # fmt: skip
    bucket, missing = bucket_name(), bucket_name("missing")
    base = ["--endpoint-url", moto.endpoint_url, "--allow-http"]
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("alpha")
    (src / "b.bin").write_bytes(os.urandom(2000))
    plain = tmp_path / "plain.txt"
    plain.write_text("to be encrypted")
    runs: list[tuple[str, subprocess.CompletedProcess[str]]] = []

    def run(*args: str, expect: int | tuple[int, ...] = 0) -> subprocess.CompletedProcess[str]:
        result = run_cli(*args, env=env)
        allowed = expect if isinstance(expect, tuple) else (expect,)
        assert result.returncode in allowed, (args, result.returncode, result.stderr[-1500:])
        runs.append((" ".join(args), result))
        return result

    assert run(*base, "mb", f"s3://{bucket}").returncode == 0
    presigned = run(*base, "presign", f"s3://{bucket}/a.txt", "--expires", "15m").stdout.strip()
    match = re.search(r"X-Amz-Signature=([0-9a-f]{64})", presigned)
    assert match, presigned
    signature = match.group(1)
    secrets = [SECRET_KEY, SESSION_TOKEN, PASSPHRASE, ACCESS_KEY, signature]
    runs.clear()  # presign's own stdout is the URL, signature included: that is its job
    # the most verbose level of each output form: -vv/--debug print every -v line and the requests besides.
    # The two forms run side by side, each in its own folder and prefix: two chains of child processes share
    # the machine's two cores instead of taking turns.
    def scan(i: int, flags: list[str]) -> None:
        b, out, where = [*base, *flags], tmp_path / f"form{i}", f"s3://{bucket}/form{i}"
        out.mkdir()
        run(*b, "ls")
        run(*b, "put", "-r", str(src), f"{where}/t/")
        run(*b, "put", "--encrypt", "aescrypt", str(plain), f"{where}/enc/plain.txt.aes")
        run(*b, "ls", "-r", "--long", f"s3://{bucket}")
        run(*b, "get", "-r", f"{where}/t/", str(out / "restore"))
        run(*b, "get", f"{where}/enc/plain.txt.aes", str(out / "dec.txt"))
        run(*b, "sync", str(src), f"{where}/s/")
        run(*b, "sync", f"{where}/s/", str(out / "mirror"))
        run(*b, "presign", f"s3://{bucket}/a.txt", "--method", "put", "--json") if "--json" not in flags else None
        run(*b, "policy", "show", f"s3://{bucket}", expect=(0, 3))
        run(*b, "config", "show")
        run(*b, "info", f"s3://{bucket}")
        run(*b, "encrypt", "--to", "aescrypt", "--force", "-o", str(out / "local.aes"), str(plain))
        run(*b, "decrypt", "--force", "-o", str(out / "local.txt"), str(out / "local.aes"))
        # error paths: a missing bucket, a pre-signed URL pasted where an S3 URL belongs, a wrong passphrase
        run(*b, "info", f"s3://{missing}", expect=3)
        run(*b, "ls", presigned, expect=2)
        run(*b, "get", presigned, str(out), expect=2)
        run(*b, "presign", presigned, expect=2)
        wrong = run_cli(*b, "decrypt", "--force", "-o", str(out / "x.txt"), str(out / "local.aes"),
                        env={**env, "S3SAFE_PASSPHRASE": "wrong " + PASSPHRASE[::-1]})  # fmt: skip
        assert wrong.returncode != 0
        runs.append(("decrypt (wrong passphrase)", wrong))
        assert (out / "local.txt").read_text() == "to be encrypted"

    with ThreadPoolExecutor(2) as pool:
        list(pool.map(scan, [0, 1], [["-vv", "--debug"], ["--json", "-vv", "--debug"]]))
    assert len(runs) >= 2 * 18
    assert any("Authorization" in r.stderr or "authorization" in r.stderr for _, r in runs), "--debug logged no requests"
    # a pre-signed URL carries the access key id and session token by design: presign's stdout is exempt
    leaks = [(name, _secrets_in((r.stdout if " presign s3://" not in name else "") + r.stderr, secrets)) for name, r in runs]
    assert not [leak for leak in leaks if leak[1]], [leak for leak in leaks if leak[1]]
    # files s3safe wrote under HOME: config, verified-state cache, journals
    for path in Path(os.environ["HOME"]).rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            found = [s for s in secrets if s.encode() in content]
            assert not found, (path, found)


def test_secrets_never_appear_in_the_process_title(moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    """Read /proc/PID/cmdline and /proc/PID/comm of a running, throttled upload."""
    bucket = bucket_name()
    base = [S3SAFE, "--endpoint-url", moto.endpoint_url, "--allow-http"]
    env = {**os.environ, "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
           "AWS_SESSION_TOKEN": SESSION_TOKEN, "S3SAFE_PASSPHRASE": PASSPHRASE}  # fmt: skip
    assert subprocess.run([*base, "mb", f"s3://{bucket}"], env=env, capture_output=True, check=False, timeout=60).returncode == 0
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(6 * 1024 * 1024))
    proc = subprocess.Popen([*base, "--max-bandwidth", "2MiB", "put", "--encrypt", "aescrypt", str(big), f"s3://{bucket}/big.aes"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    titles: list[bytes] = []
    try:
        deadline = time.monotonic() + 30
        while proc.poll() is None and time.monotonic() < deadline:
            for name in ("cmdline", "comm"):
                try:
                    titles.append(Path(f"/proc/{proc.pid}/{name}").read_bytes())
                except OSError:
                    pass
            time.sleep(0.05)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert len(titles) >= 4, "the process ended before its title could be read"
    for secret in (ACCESS_KEY, SECRET_KEY, SESSION_TOKEN, PASSPHRASE):
        assert not [t for t in titles if secret.encode() in t]
        assert secret.encode() not in out + err
