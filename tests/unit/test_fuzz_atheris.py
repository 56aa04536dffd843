"""Coverage-guided fuzzing with atheris (libFuzzer) over the same targets as the hypothesis fuzzers.

Each target runs in a child process (atheris exits the process when done) for a bounded number of runs; any
exception other than the target's documented error class is a crash, and the child exits non-zero with the
input that caused it. Run one by hand with more runs: `python tests/unit/test_fuzz_atheris.py where -runs=200000`.
"""

from __future__ import annotations

import io
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

TARGETS = ("where", "policy", "aescrypt", "age", "url")
RUNS = 2000  # per target and per suite run; a longer campaign is run by hand (see above)


def _targets() -> dict[str, Callable[[bytes], None]]:
    from s3safe.core.errors import S3SafeError, UsageError
    from s3safe.core.locations import parse_s3_url, safe_local_path
    from s3safe.crypto import aescrypt, age
    from s3safe.query import compile_where
    from s3safe.security.policy_eval import evaluate, parse_policy, s3_request

    identity, _ = age.generate_identity()
    root = Path("/nonexistent-s3safe-fuzz-root")

    def text(data: bytes) -> str:
        return data.decode("utf-8", "surrogateescape")

    def where(data: bytes) -> None:
        try:
            compile_where(text(data), scope="any")
        except UsageError:
            pass

    def policy(data: bytes) -> None:
        try:
            evaluate(parse_policy(text(data)), s3_request("s3:GetObject", "b-bucket", "k", source_ip="10.0.0.1"))
        except UsageError:
            pass

    def aes(data: bytes) -> None:
        try:
            aescrypt.decrypt_stream(io.BytesIO(data), io.BytesIO(), "pw", max_iterations=1000)
        except S3SafeError:
            pass

    def age_reader(data: bytes) -> None:
        try:
            age.decrypt_stream(io.BytesIO(data), io.BytesIO(), identities=[identity], max_work_factor=4)
        except S3SafeError:
            pass

    def url(data: bytes) -> None:
        try:
            parse_s3_url(text(data))
        except UsageError:
            pass
        try:
            target = safe_local_path(root, text(data))
        except UsageError:
            return
        assert str(target).startswith(str(root) + "/")

    return {"where": where, "policy": policy, "aescrypt": aes, "age": age_reader, "url": url}


def main(argv: list[str]) -> None:
    import atheris

    name = argv[1]
    with atheris.instrument_imports():
        target = _targets()[name]
    atheris.Setup([argv[0], *argv[2:]], target)
    atheris.Fuzz()


@pytest.mark.parametrize("name", TARGETS)
def test_atheris_finds_no_crash(name: str, tmp_path: Path) -> None:
    pytest.importorskip("atheris", reason="atheris ships Linux x86-64 wheels only (installed by the test extras there)")
    result = subprocess.run(
        [sys.executable, __file__, name, f"-runs={RUNS}", "-max_len=1024", "-seed=1", f"-artifact_prefix={tmp_path}/"],
        capture_output=True, text=True, timeout=240, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"Done {RUNS} runs" in result.stderr, result.stderr[-1000:]


if __name__ == "__main__":
    main(sys.argv)
