"""`--local-delete` is a plain flag: the word after it is never taken as its condition (`--local-delete ./data
s3://b/` once made ./data the condition and the command lost its source). A condition goes with
`--local-delete-where EXPR` or `--local-delete=EXPR`."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]


def test_local_delete_takes_no_word_after_it(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    src = tmp_path / "data"
    src.mkdir()
    (src / "small.txt").write_bytes(b"a")
    (src / "large.txt").write_bytes(b"b" * 100)
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    dest = f"s3://{bucket}/d/"
    assert run_cli(*base, "put", "-r", "--only-diff", str(src), dest).returncode == 0

    def planned(*option: str) -> list[str]:
        dry = run_cli(*base, "put", "-r", "--only-diff", "--dry-run", *option, str(src), dest)
        assert dry.returncode == 0, dry.stderr
        return sorted(Path(line.split()[4]).name for line in dry.stdout.splitlines() if "would local-delete" in line)

    assert planned("--local-delete") == ["large.txt", "small.txt"]  # the source folder stayed the source
    assert planned("--local-delete-where", "size > 10") == ["large.txt"]
    assert planned("--local-delete=size < 10") == ["small.txt"]
    synced = run_cli(*base, "sync", "--dry-run", "--local-delete", str(src), dest)
    assert synced.returncode == 0 and synced.stdout.count("would local-delete") == 2, synced.stdout + synced.stderr
    empty = run_cli(*base, "put", "-r", "--only-diff", "--local-delete=", str(src), dest)
    assert empty.returncode == 2 and "--local-delete-where needs a condition" in empty.stderr
    assert sorted(p.name for p in src.iterdir()) == ["large.txt", "small.txt"]  # dry runs deleted nothing
