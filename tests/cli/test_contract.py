"""The installed `s3safe` command as a user runs it: exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from tests.conftest import S3SAFE
from tests.servers.moto import MotoServer
from tests.servers.rclone import RcloneServer

Run = Callable[..., CompletedProcess[str]]


def _one_line_error(result: CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def test_plain_http_endpoint_is_refused_with_exit_2(run_cli: Run) -> None:
    result = run_cli("--endpoint-url", "http://127.0.0.1:9", "ls")
    assert result.returncode == 2
    assert "--allow-http" in _one_line_error(result)


def test_env_endpoint_is_checked_too(run_cli: Run) -> None:
    result = run_cli("ls", env={"S3SAFE_ENDPOINT_URL": "http://127.0.0.1:9"})
    assert result.returncode == 2 and "--allow-http" in result.stderr


def test_local_commands_do_not_check_the_endpoint(run_cli: Run, tmp_path: Path) -> None:
    """keygen, encrypt, decrypt, completion and config show send no request: a plain-HTTP endpoint in the
    environment (set for the commands that do) must not stop them, nor earn the plain-HTTP warning."""
    env = {"S3SAFE_ENDPOINT_URL": "http://127.0.0.1:9"}
    identity = tmp_path / "id.txt"
    made = run_cli("--json", "keygen", "-o", str(identity), env=env)
    assert made.returncode == 0, made.stderr
    recipient = json.loads(made.stdout.splitlines()[-1])["recipient"]
    (tmp_path / "note.txt").write_text("local only\n")
    sealed = run_cli("encrypt", "--to", "age", "-r", recipient, str(tmp_path / "note.txt"), env=env)
    assert sealed.returncode == 0, sealed.stderr
    (tmp_path / "note.txt").unlink()
    opened = run_cli("decrypt", "-i", str(identity), str(tmp_path / "note.txt.age"), env=env)
    assert opened.returncode == 0, opened.stderr
    assert (tmp_path / "note.txt").read_text() == "local only\n"
    completion = run_cli("completion", "bash", env=env)
    shown = run_cli("config", "show", env=env)
    for result in (made, sealed, opened, completion, shown):
        assert result.returncode == 0, result.stderr
        assert "plain-HTTP" not in result.stderr and "plain HTTP" not in result.stderr
    assert "http://127.0.0.1:9" in shown.stdout  # shown as in effect, as given
    # a command that talks to S3 still refuses it
    refused = run_cli("ls", env=env)
    assert refused.returncode == 2 and "--allow-http" in refused.stderr


def test_allow_http_works_and_warns_every_run(run_cli: Run, moto: MotoServer, bucket_name: Callable[[], str]) -> None:
    name = bucket_name()
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    made = run_cli(*base, "mb", f"s3://{name}")
    listed = run_cli(*base, "ls")
    for result in (made, listed):
        assert result.returncode == 0, result.stderr
        assert "warning: using plain HTTP" in result.stderr
    assert name in listed.stdout


@pytest.mark.parametrize(
    ("args", "code", "needle"),
    [
        (("mb", "s3://Bad_Bucket"), 2, "invalid bucket name"),
        (("ls", "s3://ab"), 2, "invalid bucket name"),
        (("ls", "s3://"), 2, "names no bucket"),
        (("put", "/definitely/not/here.txt", "s3://some-bucket/"), 3, "local file not found"),
        (("put", "README", "s3://some-bucket/", "--meta", "novalue"), 2, "malformed metadata"),
        (("put", "README", "s3://some-bucket/", "--acl", "public-read"), 2, "--allow-public"),
        (("get", "s3://some-bucket"), 2, "no object key"),
        (("rm", "not-a-url"), 2, "not an S3 URL"),
        (("rm", "s3://some-bucket/x", "--max-delete", "-1"), 2, "--max-delete"),
        (("uploads", "ls", "s3://some-bucket", "--older-than", "soon"), 2, "invalid age"),
        (("config", "set", "aws_secret_access_key", "x"), 2, "secret"),
        (("--threads", "0", "ls"), 2, "threads"),
    ],
)
def test_bad_input_gives_one_clear_line(run_cli: Run, tmp_path: Path, args: tuple[str, ...], code: int, needle: str) -> None:
    (tmp_path / "README").write_text("x")
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == code, result.stderr
    assert needle in _one_line_error(result)


def test_unknown_profile_is_a_usage_error(run_cli: Run) -> None:
    result = run_cli("--profile", "nosuchprofile", "ls")
    assert result.returncode == 2
    assert "nosuchprofile" in _one_line_error(result)


def test_unknown_option_is_usage_error(run_cli: Run) -> None:
    result = run_cli("ls", "--no-such-flag")
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_missing_bucket_exits_3(run_cli: Run, moto: MotoServer, bucket_name: Callable[[], str]) -> None:
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "info", f"s3://{bucket_name('gone')}")
    assert result.returncode == 3
    assert "does not exist" in _one_line_error(result)


def test_no_credentials_exits_4(run_cli: Run, moto_server: MotoServer) -> None:
    result = run_cli("--endpoint-url", moto_server.endpoint_url, "--allow-http", "ls")
    assert result.returncode == 4
    assert "credentials" in _one_line_error(result)


def test_json_output_is_one_object_per_line(run_cli: Run, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    name = bucket_name()
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    assert run_cli(*base, "mb", f"s3://{name}").returncode == 0
    for i in range(3):
        (tmp_path / f"f{i}.txt").write_text("x" * (i + 1))
        assert run_cli(*base, "put", str(tmp_path / f"f{i}.txt"), f"s3://{name}/dir/").returncode == 0
    result = run_cli(*base, "--json", "ls", "-r", "--summary", "--long", f"s3://{name}")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    objects = [r for r in records if r["type"] == "object"]
    assert [o["key"] for o in objects] == ["dir/f0.txt", "dir/f1.txt", "dir/f2.txt"]
    assert all(o["private"] is True and o["sse"] == "AES256" for o in objects)
    assert records[-1] == {"type": "summary", "objects": 3, "dirs": 0, "total_bytes": 6}
    error = run_cli(*base, "--json", "info", f"s3://{bucket_name('gone')}")
    assert error.returncode == 3
    assert json.loads(error.stderr.splitlines()[-1])["exit_code"] == 3


def test_text_ls_long_shows_private_and_sse(run_cli: Run, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    name = bucket_name()
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    run_cli(*base, "mb", f"s3://{name}")
    (tmp_path / "a.txt").write_text("hello")
    put = run_cli(*base, "put", str(tmp_path / "a.txt"), f"s3://{name}/")
    assert put.returncode == 0, put.stderr
    listed = run_cli(*base, "ls", "--long", "--bytes", f"s3://{name}/")
    [line] = listed.stdout.splitlines()
    assert line.split()[2:] == ["5", "STANDARD", "AES256", "private", f"s3://{name}/a.txt"]


def test_config_file_is_private_and_used(run_cli: Run, isolated_env: Path) -> None:
    assert run_cli("config", "set", "region", "eu-west-3").returncode == 0
    path = Path(os.environ["S3SAFE_CONFIG_DIR"]) / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    shown = run_cli("--json", "config", "show")
    record: dict[str, Any] = json.loads(shown.stdout)
    assert record["stored"] == {"region": "eu-west-3"} and record["effective"]["region"] == "eu-west-3"
    override = json.loads(run_cli("--json", "--region", "ap-south-1", "config", "show").stdout)
    assert override["effective"]["region"] == "ap-south-1"


def test_rm_dry_run_then_max_delete_refusal(run_cli: Run, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    name = bucket_name()
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    run_cli(*base, "mb", f"s3://{name}")
    for i in range(3):
        (tmp_path / f"{i}").write_text("x")
        run_cli(*base, "put", str(tmp_path / f"{i}"), f"s3://{name}/")
    dry = run_cli(*base, "rm", "-r", "--dry-run", f"s3://{name}/")
    assert dry.returncode == 0 and dry.stdout.count("(dry run) would delete") == 3
    refused = run_cli(*base, "rm", "-r", "--max-delete", "2", f"s3://{name}/")
    assert refused.returncode == 7
    assert "nothing was changed" in _one_line_error(refused)
    still = run_cli(*base, "--json", "ls", "-r", "--summary", f"s3://{name}")
    assert json.loads(still.stdout.splitlines()[-1])["objects"] == 3
    done = run_cli(*base, "rm", "-r", f"s3://{name}/")
    assert done.returncode == 0 and "3 done" in done.stdout


# --- rclone serve s3: real SigV4 checking over verified HTTPS -------------------------------------


def test_wrong_secret_key_exits_4_naming_the_credential_problem(run_cli: Run, rclone: RcloneServer) -> None:
    wrong = "wrong-secret-value-9911"
    result = run_cli("--endpoint-url", rclone.endpoint_url, "--ca-bundle", rclone.ca_bundle, "ls",
                     env={"AWS_SECRET_ACCESS_KEY": wrong})  # fmt: skip
    assert result.returncode == 4
    line = _one_line_error(result)
    assert "credential problem" in line and "secret access key" in line
    assert wrong not in result.stderr + result.stdout


def test_https_with_ca_bundle_round_trip(run_cli: Run, rclone: RcloneServer, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    name = bucket_name()
    base = ("--endpoint-url", rclone.endpoint_url, "--ca-bundle", rclone.ca_bundle)
    made = run_cli(*base, "mb", "--plain", f"s3://{name}")
    assert made.returncode == 0, made.stderr
    data = os.urandom(200_000)
    (tmp_path / "blob.bin").write_bytes(data)
    put = run_cli(*base, "put", str(tmp_path / "blob.bin"), f"s3://{name}/blob.bin")
    assert put.returncode == 0, put.stderr
    out = tmp_path / "out"
    out.mkdir()
    got = run_cli(*base, "get", f"s3://{name}/blob.bin", str(out))
    assert got.returncode == 0, got.stderr
    assert (out / "blob.bin").read_bytes() == data
    assert "warning" not in put.stderr + got.stderr


def test_untrusted_certificate_is_refused_without_ca_bundle(run_cli: Run, rclone: RcloneServer) -> None:
    result = run_cli("--endpoint-url", rclone.endpoint_url, "--retries", "0", "ls")
    assert result.returncode == 1
    assert "--ca-bundle" in _one_line_error(result)


def test_single_file_dry_runs_change_nothing(run_cli: Run, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    name = bucket_name()
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    run_cli(*base, "mb", f"s3://{name}")
    (tmp_path / "a.txt").write_text("a")
    dry = run_cli(*base, "put", str(tmp_path / "a.txt"), f"s3://{name}/", "--dry-run")
    assert dry.returncode == 0 and f"(dry run) would upload s3://{name}/a.txt" in dry.stdout
    listed = run_cli(*base, "--json", "ls", "-r", "--summary", f"s3://{name}")
    assert json.loads(listed.stdout.splitlines()[-1])["objects"] == 0
    assert run_cli(*base, "put", str(tmp_path / "a.txt"), f"s3://{name}/").returncode == 0
    out = tmp_path / "out"
    out.mkdir()
    got = run_cli(*base, "get", f"s3://{name}/a.txt", str(out), "--dry-run")
    assert got.returncode == 0 and "(dry run) would download" in got.stdout
    assert list(out.iterdir()) == []


def test_global_options_may_follow_the_command(run_cli: Run, moto: MotoServer, bucket_name: Callable[[], str]) -> None:
    name = bucket_name()
    made = run_cli("mb", f"s3://{name}", "--endpoint-url", moto.endpoint_url, "--allow-http", "--json")
    assert made.returncode == 0, made.stderr
    assert all(json.loads(line)["type"] == "step" for line in made.stdout.splitlines())


def test_a_plain_http_endpoint_written_into_the_config_file_can_be_allowed_or_removed(run_cli: Run, isolated_env: Path) -> None:
    """rt22 E: a hand-written `endpoint_url = "http://…"` stopped every command, `config unset endpoint_url` and
    `--allow-http` included, so the file had to be edited by hand."""
    folder = isolated_env / "s3safe-config"
    folder.mkdir(exist_ok=True)
    (folder / "config.toml").write_text('endpoint_url = "http://127.0.0.1:9"\n')
    refused = run_cli("--retries", "0", "ls", "s3://some-bucket/")
    assert refused.returncode == 2
    line = _one_line_error(refused)
    assert "config.toml" in line and "--allow-http" in line and "config unset endpoint_url" in line, line
    keys = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "not-a-real-secret"}
    allowed = run_cli("--allow-http", "--retries", "0", "--timeout", "5", "ls", "s3://some-bucket/", env=keys)
    assert allowed.returncode == 1 and "cannot reach" in allowed.stderr, allowed.stderr  # it was used, as allowed
    assert "using plain HTTP to http://127.0.0.1:9" in allowed.stderr
    # an https endpoint given for this run does not need the file's to be fixed first
    other = run_cli("--endpoint-url", "https://127.0.0.1:9", "--retries", "0", "--timeout", "5", "ls", "s3://some-bucket/", env=keys)
    assert other.returncode == 1 and "config.toml" not in other.stderr, other.stderr
    # storing one is still refused; removing it works
    stored = run_cli("config", "set", "endpoint_url", "http://127.0.0.1:8")
    assert stored.returncode == 2 and "--allow-http" in stored.stderr
    removed = run_cli("config", "unset", "endpoint_url")
    assert removed.returncode == 0, removed.stderr
    assert "endpoint_url" not in (folder / "config.toml").read_text()


def test_settings_the_commands_refuse_still_leave_help_and_the_config_commands_working(
    run_cli: Run, isolated_env: Path, tmp_path: Path
) -> None:
    """rt23 H: a plain-HTTP endpoint_url or an out-of-range value in config.toml made `put --help`, `s3safe meta`
    and `config unset` (the way to repair it) exit 2; they need no settings. A command that does is refused as
    before, naming the file."""
    folder = isolated_env / "s3safe-config"
    folder.mkdir(exist_ok=True)
    (folder / "config.toml").write_text('endpoint_url = "http://127.0.0.1:9"\nthreads = 300\n')
    for args in (["put", "--help"], ["get", "-h"], ["meta"]):
        shown = run_cli(*args)
        assert shown.returncode == 0 and "Usage: s3safe" in shown.stdout, (args, shown.stderr)
    refused = run_cli("ls", "s3://some-bucket/")
    assert refused.returncode == 2 and "config.toml" in _one_line_error(refused)
    table = run_cli("config", "show")
    assert table.returncode == 2 and "threads must be between 1 and 256" in _one_line_error(table)
    assert "300" in table.stdout  # the stored value is shown, so that it can be seen and replaced
    assert run_cli("keygen", "-o", str(tmp_path / "id.txt")).returncode == 0  # sends no request
    assert run_cli("config", "unset", "threads").returncode == 0
    assert run_cli("config", "unset", "endpoint_url").returncode == 0
    assert (folder / "config.toml").read_text().strip() == ""


def test_a_help_page_whose_reader_went_away_is_no_traceback() -> None:
    """`s3safe meta | head -1`: the reader went away before the group's help was written (here: at once)."""
    child = subprocess.Popen([S3SAFE, "meta"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # long before the interpreter has started: every write of the help meets a closed pipe
    err = child.stderr.read().decode()
    assert child.wait(60) == 0, err
    assert "Traceback" not in err and "OutputClosed" not in err, err


def test_unknown_keys_in_the_config_file_can_be_removed_with_config_unset_and_are_never_shown(
    run_cli: Run, isolated_env: Path
) -> None:
    """rt24 N4: an unknown key (here a secret written in by hand) made 'config set/unset/show' exit 2 too, so the
    file had to be edited by hand; 'config show --json' must not print the secret's value either."""
    folder = isolated_env / "s3safe-config"
    folder.mkdir(exist_ok=True)
    (folder / "config.toml").write_text('bogus_key = 1\naws_secret_access_key = "TOPSECRETVALUE123"\n')
    refused = run_cli("--endpoint-url", "https://127.0.0.1:9", "ls", "s3://some-bucket/")
    assert refused.returncode == 2 and "unknown keys" in _one_line_error(refused)
    for args in (["config", "show"], ["--json", "config", "show"]):
        shown = run_cli(*args)
        assert shown.returncode == 2, shown.stderr
        assert "TOPSECRETVALUE123" not in shown.stdout + shown.stderr
    assert run_cli("config", "set", "region", "eu-west-1").returncode == 0
    assert run_cli("config", "unset", "aws_secret_access_key").returncode == 0
    assert run_cli("config", "unset", "bogus_key").returncode == 0
    assert (folder / "config.toml").read_text().strip() == 'region = "eu-west-1"'
