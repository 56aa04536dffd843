"""exec against the real moto server: a five-command script with one failing line, with and without --keep-going.

The global options given to `exec` (endpoint, --allow-http, --json) reach every command of the script,
which names neither; ${BUCKET} and %date% expand inside the commands.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]

SCRIPT = """\
# nightly job: five commands, the fourth fails (no such object)
mb s3://${BUCKET}
put '{local}/a file.txt' s3://${BUCKET}/%date%/   # dated prefix
ls s3://${BUCKET}/%date%/
get s3://${BUCKET}/missing.txt {out}/
put {local}/b.txt s3://${BUCKET}/b.txt
"""


def _script(tmp_path: Path) -> Path:
    local = tmp_path / "local"
    local.mkdir()
    (local / "a file.txt").write_text("alpha\n")
    (local / "b.txt").write_text("bravo\n")
    (tmp_path / "out").mkdir()
    path = tmp_path / "job.s3safe"
    path.write_text(SCRIPT.replace("{local}", str(local)).replace("{out}", str(tmp_path / "out")))
    return path


def _keys(client: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_exec_stops_at_the_failing_line_with_its_exit_code(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    script, bucket = _script(tmp_path), bucket_name()
    today = datetime.now().astimezone().strftime("%Y-%m-%d")
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "exec", str(script), env={"BUCKET": bucket})
    assert result.returncode == 3, result.stderr  # 3: not found, the failing command's own code
    assert f"s3://{bucket}/{today}/a file.txt" in result.stdout  # line 4's listing: %date% expanded alike twice
    assert "[line 5] get s3://${BUCKET}/missing.txt" in result.stderr  # shown as written, before it runs
    assert "[line 6]" not in result.stderr
    assert "exec: stopped at line 5 (exit 3); 3 succeeded, 1 failed, 1 not run" in result.stdout
    assert _keys(moto_client, bucket) == [f"{today}/a file.txt"]  # the last put never ran


def test_exec_keep_going_runs_everything_and_reports(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    script, bucket = _script(tmp_path), bucket_name()
    args = ("--endpoint-url", moto.endpoint_url, "--allow-http", "--json", "exec", "--keep-going", str(script))
    result = run_cli(*args, env={"BUCKET": bucket})
    assert result.returncode == 3, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    steps = [(r["line"], r["exit_code"]) for r in records if r["type"] == "exec_step"]
    assert steps == [(2, 0), (3, 0), (4, 0), (5, 3), (6, 0)]
    summary = records[-1]
    assert summary["type"] == "summary" and summary["commands"] == 5
    assert (summary["ok"], summary["failed"], summary["not_run"], summary["exit_code"]) == (4, 1, 0, 3)
    assert summary["failures"][0]["line"] == 5
    errors = [json.loads(line) for line in result.stderr.splitlines()]
    assert [e["exit_code"] for e in errors if e["type"] == "error"] == [3]  # the failing command's JSON error
    assert "b.txt" in _keys(moto_client, bucket)


def test_an_empty_variable_never_widens_rm_to_the_whole_bucket(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """Issue 14.9: with DIR set but empty, `rm -r s3://b/${DIR}` would have planned deleting every object."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    for key in ("keep/a.txt", "tmp/old.txt"):
        moto_client.put_object(Bucket=bucket, Key=key, Body=b"x")
    script = tmp_path / "clean.s3safe"
    script.write_text("rm -r s3://${BUCKET}/${DIR}\n")
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http", "exec", str(script))
    result = run_cli(*base, env={"BUCKET": bucket, "DIR": ""})
    assert result.returncode == 2, result.stderr
    assert "line 1: environment variable DIR is empty in the S3 URL" in result.stderr
    assert _keys(moto_client, bucket) == ["keep/a.txt", "tmp/old.txt"]  # nothing ran
    result = run_cli(*base, env={"BUCKET": bucket, "DIR": "tmp/"})
    assert result.returncode == 0, result.stderr
    assert _keys(moto_client, bucket) == ["keep/a.txt"]


def test_an_empty_variable_in_a_local_path_never_purges_the_current_folder(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """Found by an outside tester: `get -r --purge s3://b/up/ ${SRC}` with SRC= downloaded into the current folder
    and deleted everything else in it, the script included."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key="up/a.txt", Body=b"a")
    work = tmp_path / "work"
    work.mkdir()
    (work / "keep-me").write_text("mine")
    script = work / "g.s3safe"
    script.write_text(f"get -r --purge s3://{bucket}/up/ ${{SRC}}\n")
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "exec", str(script), env={"SRC": ""}, cwd=work)
    assert result.returncode == 2, result.stderr
    assert "line 1: environment variable SRC is empty" in result.stderr
    assert sorted(p.name for p in work.iterdir()) == ["g.s3safe", "keep-me"]


@pytest.mark.parametrize("args", [("get", "-r", "--purge", "s3://{b}/up/", ""), ("put", "-r", "--purge", "", "s3://{b}/up/"),
                                  ("sync", "--purge", "", "s3://{b}/up/"), ("sync", "s3://{b}/up/", ""),
                                  ("get", "s3://{b}/up/a.txt", "")])  # fmt: skip
def test_an_empty_local_path_argument_is_a_usage_error(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, args: tuple[str, ...]
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key="up/a.txt", Body=b"a")
    (tmp_path / "keep-me").write_text("mine")
    argv = [a.format(b=bucket) for a in args]
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", *argv, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "empty" in result.stderr and "Traceback" not in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != "home") == ["keep-me"]
    assert [o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket)["Contents"]] == ["up/a.txt"]
