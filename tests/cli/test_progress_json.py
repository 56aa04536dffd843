"""`--json --progress-json`: periodic `progress` records for wrappers, the last one with the final totals; no live
display where stderr is not a terminal (here: a pipe), and --progress-json without --json is a usage error."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]


def test_progress_records_with_json(moto: MotoServer, run_cli: Run, bucket_name: Callable[[], str], tmp_path: Path) -> None:
    bucket = bucket_name()
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    assert run_cli(*base, "mb", f"s3://{bucket}").returncode == 0
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "big.bin").write_bytes(os.urandom(384 * 1024))  # 1.5 s at 256 KiB/s: at least one record mid-run
    (tree / "small.txt").write_text("small\n")
    done = run_cli(*base, "--json", "--progress-json", "--max-bandwidth", "256KiB", "put", "-r", str(tree), f"s3://{bucket}/p/")
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in done.stdout.splitlines()]
    progress = [r for r in records if r["type"] == "progress"]
    assert len(progress) >= 2, records
    total = 384 * 1024 + 6
    assert progress[-1] | {"bytes_per_second": None, "eta_seconds": None, "elapsed_seconds": None} == {
        "type": "progress", "planned": True, "bytes": total, "bytes_total": total, "percent": 100.0, "files": 2,
        "files_total": 2, "failed": 0, "bytes_per_second": None, "eta_seconds": None, "elapsed_seconds": None,
    }  # fmt: skip
    assert any(0 < r["bytes"] < total for r in progress[:-1]), progress  # seen while it ran, not only at the end
    assert sum(r["type"] == "action" for r in records) == 2 and records[-1]["type"] == "summary"

    # stderr is a pipe here: no live display, and --progress-json alone asks for nothing a text run can give
    plain = run_cli(*base, "put", "-r", str(tree), f"s3://{bucket}/q/")
    assert plain.returncode == 0 and "ETA" not in plain.stderr and "%" not in plain.stderr
    refused = run_cli(*base, "--progress-json", "put", "-r", str(tree), f"s3://{bucket}/r/")
    assert refused.returncode == 2 and "--progress-json needs --json" in refused.stderr


def test_server_side_copy_counts_objects_and_bytes(moto: MotoServer, run_cli: Run, bucket_name: Callable[[], str], tmp_path: Path) -> None:
    bucket = bucket_name()
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    assert run_cli(*base, "mb", f"s3://{bucket}").returncode == 0
    (tmp_path / "tree").mkdir()
    (tmp_path / "tree" / "a.txt").write_text("a" * 1000)
    (tmp_path / "tree" / "b.txt").write_text("b" * 24)
    assert run_cli(*base, "put", "-r", str(tmp_path / "tree"), f"s3://{bucket}/src/").returncode == 0
    done = run_cli(*base, "--json", "--progress-json", "cp", "-r", f"s3://{bucket}/src/", f"s3://{bucket}/dst/")
    assert done.returncode == 0, done.stderr
    last = [r for r in map(json.loads, done.stdout.splitlines()) if r["type"] == "progress"][-1]
    assert (last["planned"], last["files"], last["files_total"], last["bytes"], last["bytes_total"]) == (True, 2, 2, 1024, 1024)


def test_single_file_transfers_end_with_the_summary_after_the_last_progress_record(
    moto: MotoServer, run_cli: Run, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    # as trees do: the final progress record came after the summary for one file (rt17 #12)
    bucket = bucket_name()
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http", "--json", "--progress-json")
    assert run_cli(*base, "mb", f"s3://{bucket}").returncode == 0
    (tmp_path / "one.txt").write_text("one\n")
    put = run_cli(*base, "put", str(tmp_path / "one.txt"), f"s3://{bucket}/one.txt")
    got = run_cli(*base, "get", f"s3://{bucket}/one.txt", str(tmp_path / "back.txt"))
    for done in (put, got):
        assert done.returncode == 0, done.stderr
        kinds = [json.loads(line)["type"] for line in done.stdout.splitlines()]
        assert "progress" in kinds and kinds[-1] == "summary", kinds


def test_json_with_progress_draws_the_display_on_stderr_and_keeps_stdout_json(
    moto: MotoServer, run_cli: Run, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    # --json --progress was silently ignored (rt17 #1): --progress forces the display, on stderr, as without --json
    bucket = bucket_name()
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    assert run_cli(*base, "mb", f"s3://{bucket}").returncode == 0
    (tmp_path / "one.txt").write_text("one\n")
    done = run_cli(*base, "--json", "--progress", "put", str(tmp_path / "one.txt"), f"s3://{bucket}/one.txt")
    assert done.returncode == 0, done.stderr
    kinds = [json.loads(line)["type"] for line in done.stdout.splitlines()]
    assert kinds == ["action", "summary"], done.stdout
    assert "files " in done.stderr and "failed 0" in done.stderr, done.stderr
    assert "\x1b[2K" in done.stderr  # the display erased itself at the end
    # one file: its totals from the first drawing on, which comes before the upload begins (failed before: the plan
    # was counted only once the upload's checks were done, and "scanning … files 0/0+" showed until then)
    first = next(line for line in done.stderr.splitlines() if "files " in line)
    assert first.endswith("0 B / 4 B 0%, -/s, ETA -, files 0/1, failed 0") and "scanning" not in done.stderr, done.stderr
    got = run_cli(*base, "--json", "--progress", "get", f"s3://{bucket}/one.txt", str(tmp_path / "back.txt"))
    first = next(line for line in got.stderr.splitlines() if "files " in line)
    assert got.returncode == 0 and "files 0/1," in first and "scanning" not in got.stderr, got.stderr
