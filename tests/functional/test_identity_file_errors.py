"""An identity file the user named that holds no age identity is said as it is (exit 2), not as "no identity or
passphrase to open it" (exit 4) (rt22)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]


def test_a_garbage_identity_file_is_named_when_an_encrypted_object_needs_it(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, run_cli: Run
) -> None:
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    identity = tmp_path / "id.txt"
    assert run_cli("keygen", "-o", str(identity)).returncode == 0
    recipient = next(line.split()[-1] for line in identity.read_text().splitlines() if "age1" in line)
    (tmp_path / "a.txt").write_text("secret\n")
    assert run_cli(*base, "put", "--recipient", recipient, str(tmp_path / "a.txt"), f"s3://{bucket}/a.txt").returncode == 0
    garbage = tmp_path / "garbage.txt"
    garbage.write_text("this is not an age identity\n")
    result = run_cli(*base, "get", "--identity", str(garbage), f"s3://{bucket}/a.txt", str(tmp_path / "out.txt"))
    assert result.returncode == 2, result.stderr
    assert "not an age identity" in result.stderr and "no identity or passphrase" not in result.stderr
    assert not (tmp_path / "out.txt").exists()
    good = run_cli(*base, "get", "--identity", str(identity), f"s3://{bucket}/a.txt", str(tmp_path / "out.txt"))
    assert good.returncode == 0 and (tmp_path / "out.txt").read_text() == "secret\n", good.stderr
