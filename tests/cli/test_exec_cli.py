"""exec without a server: scripts are checked whole before anything runs, stdin scripts, nesting refused.

`config set` is used as the command with a visible local effect (the config file), so no server is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

Run = Callable[..., CompletedProcess[str]]


def _config(home: Path) -> str:
    path = home / "s3safe-config" / "config.toml"
    return path.read_text() if path.exists() else ""


def test_a_bad_line_anywhere_means_nothing_runs(run_cli: Run, isolated_env: Path, tmp_path: Path) -> None:
    script = tmp_path / "bad.txt"
    script.write_text("config set region eu-west-1\nls 's3://unclosed\nrm -r s3://bkt/${NOT_SET_ANYWHERE}/\nexec other.txt\n")
    result = run_cli("exec", str(script))
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert len(errors) == 3
    assert "line 2: unclosed ' quote" in errors[0]
    assert "line 3: environment variable NOT_SET_ANYWHERE is not set" in errors[1]
    assert "line 4: 'exec' cannot run inside a script" in errors[2]
    assert _config(isolated_env) == ""  # line 1 never ran


def test_script_from_stdin_runs_in_order_and_stops_at_failure(run_cli: Run, isolated_env: Path) -> None:
    script = "# defaults\nconfig set region eu-west-1\n\nconfig set nosuchkey 1\nconfig set threads 4\n"
    result = run_cli("exec", "-", input_text=script)
    assert result.returncode == 2, result.stderr  # config set's own usage error
    assert "unknown config key 'nosuchkey'" in result.stderr
    assert "exec: stopped at line 4 (exit 2); 1 succeeded, 1 failed, 1 not run" in result.stdout
    assert 'region = "eu-west-1"' in _config(isolated_env) and "threads" not in _config(isolated_env)

    kept = run_cli("exec", "--keep-going", "-", input_text=script)
    assert kept.returncode == 2
    assert "exec: 2 succeeded, 1 failed: line 4 (exit 2); exit code 2" in kept.stdout
    assert "threads = 4" in _config(isolated_env)


def test_quiet_exec_prints_only_results_and_shell_is_refused(run_cli: Run, tmp_path: Path) -> None:
    ok = run_cli("-q", "exec", "-", input_text="config set region us-west-2\n")
    assert ok.returncode == 0 and ok.stderr == ""  # no "[line N]" echo
    assert ok.stdout.startswith("region = us-west-2") and "exec:" not in ok.stdout  # the command's result, no summary
    refused = run_cli("exec", "-", input_text="--json shell\n")
    assert refused.returncode == 2 and "'shell' cannot run inside a script" in refused.stderr
    missing = run_cli("exec", str(tmp_path / "nope.txt"))
    assert missing.returncode == 3 and "script not found" in missing.stderr


def test_typos_are_found_before_anything_runs(run_cli: Run, isolated_env: Path, tmp_path: Path) -> None:
    script = tmp_path / "typos.txt"
    script.write_text("config set region eu-west-1\nls --recursiv s3://b/\nlss s3://b/\nput\n-t many ls\n"
                      "ls --help\nmeta\nconfig show\n")  # fmt: skip
    result = run_cli("exec", str(script))
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert len(errors) == 4, result.stderr
    assert "line 2: No such option '--recursiv'" in errors[0] and "s3safe ls --help" in errors[0]
    assert "line 3: No such command 'lss'" in errors[1]
    assert "line 4: Missing argument" in errors[2]
    assert "line 5: Invalid value for '-t'" in errors[3]
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert _config(isolated_env) == ""  # line 1 never ran


def test_put_from_stdin_is_refused_when_the_script_is_stdin(run_cli: Run, isolated_env: Path, tmp_path: Path) -> None:
    # the script itself consumed stdin: `put -` would write an empty object over the existing one (rt17 #1)
    script = "config set region eu-west-1\nput - s3://bkt/x/db.sql\n"
    result = run_cli("exec", "-", input_text=script)
    assert result.returncode == 2, result.stderr
    assert "line 2: put - reads standard input, which holds the script itself" in result.stderr
    assert _config(isolated_env) == ""  # line 1 never ran


def test_at_most_one_line_may_read_stdin(run_cli: Run, isolated_env: Path, tmp_path: Path) -> None:
    script = tmp_path / "two.txt"
    script.write_text("config set region eu-west-1\nput - s3://bkt/a\nput - s3://bkt/b\n")
    result = run_cli("exec", str(script), input_text="data\n")
    assert result.returncode == 2, result.stderr
    assert "line 3: only one line may read standard input (put -)" in result.stderr
    assert _config(isolated_env) == ""


def test_a_line_with_only_a_global_option_is_a_missing_command(run_cli: Run, isolated_env: Path) -> None:
    result = run_cli("exec", "-", input_text="config set region eu-west-1\n-v\n")
    assert result.returncode == 2, result.stderr  # was an IndexError, exit 1 (rt17 #5)
    assert "script not run: line 2: missing command" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert _config(isolated_env) == ""


def test_put_from_stdin_is_refused_inside_the_shell(run_cli: Run, isolated_env: Path) -> None:
    result = run_cli("shell", "--no-history", input_text="put - s3://bkt/x/db.sql\nconfig set region eu-west-1\n")
    assert "put - cannot read standard input inside the shell" in result.stderr, result.stderr
    assert 'region = "eu-west-1"' in _config(isolated_env)  # the next line was still read as a command


def test_a_commands_own_option_checks_run_before_line_1(run_cli: Run, isolated_env: Path, tmp_path: Path) -> None:
    # errors that need neither store nor disk were found only when their line ran, after line 1 had (rt17 #3)
    script = tmp_path / "opts.txt"
    script.write_text(f"config set region eu-west-1\nput --only-diff {tmp_path} s3://bkt/x/\n"
                      f"put -r {tmp_path} s3://bkt/x/ --local-delete\nrm s3://bkt/ex/\n"
                      f"put {tmp_path}/f s3://bkt/f --acl public-read\nls ''\n"
                      "ls -r s3://bkt/ --where 's3_agedayz < 3'\nget -r --as-of 2026-12-01 s3://bkt/x/ out\n")  # fmt: skip
    result = run_cli("exec", str(script))
    assert result.returncode == 2, result.stderr
    assert "line 2: --only-diff, --only-newer" in result.stderr and "need -r" in result.stderr
    assert "line 3: --local-delete needs --only-diff" in result.stderr
    assert "line 4: s3://bkt/ex/ names a folder or bucket" in result.stderr
    assert "line 5: refusing to upload with public ACL 'public-read'" in result.stderr
    assert "line 6: " in result.stderr and "line 7: " in result.stderr and "s3_agedayz" in result.stderr
    assert "line 8: " in result.stderr
    assert _config(isolated_env) == ""


def test_value_errors_of_every_command_and_global_option_stop_the_script(
    run_cli: Run, isolated_env: Path, tmp_path: Path
) -> None:
    """rt17 leftovers: the pre-check knew put/rm/ls/get only, and no global option's range: `-t 999` on line 3, or
    a bad bucket name in sync/cp/meta/audit, was found only when its line ran, after line 1 had changed things."""
    script = tmp_path / "values.txt"
    bad = [
        f"sync {tmp_path} s3://bkt/x/ -t 999",
        "ls --retries 99 s3://bkt/",
        "ls --timeout 0 s3://bkt/",
        f"sync {tmp_path} s3://b/",
        f"sync {tmp_path} s3://bkt/x/ --only-diff --only-newer",
        f"sync {tmp_path} s3://bkt/x/ --max-delete -3",
        f"sync {tmp_path} s3://bkt/x/ --where 'sizz > 1'",
        "cp s3://bkt/a s3://B/a",
        "cp s3://bkt/a s3://bkt/b --storage-class BOGUS",
        "meta set s3://x/a --set owner=ops",
        "audit s3://UPPER",
        f"get s3://bkt/one.txt {tmp_path}/ --only-diff",
        "presign s3://bkt/one.txt --expires 8d",
        "logs s3://bkt",
        "meta set s3://bkt/one.txt",
        "acl set public-read s3://bkt/one.txt",
        # rt17 (2nd round): each found only when its line ran
        "revert -r --as-of 2026-01-01 s3://bkt/t/",
        "uploads ls --older-than 9999999999d s3://bkt",
        "policy apply s3://bkt --allow-ip 999.1.1.1/33 --dry-run",
        "mb --bucket-region 'x y' s3://goodname1",
        "harden s3://bkt --acl-sample -1",
        "audit --objects --check no-such-check s3://bkt",
        "get -r s3://bkt/t/ -",
        "policy remove s3://bkt",
        "trail enable s3://bkt --retain-days 3 --keep-forever",
        "ls --versions",
    ]
    script.write_text("config set region eu-west-1\n# the next lines each hold one mistake\n" + "\n".join(bad) + "\n")
    result = run_cli("exec", str(script))
    assert result.returncode == 2, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error: script not run: line ")]
    assert [int(line.split("line ")[1].split(":")[0]) for line in errors] == list(range(3, 3 + len(bad))), result.stderr
    for text in ("threads must be between 1 and 256", "retries must be between", "timeout must be from",
                 "invalid bucket name 'b'", "choose one of --only-diff and --only-newer", "--max-delete must be zero",
                 "unknown variable 'sizz'", "invalid bucket name 'B'", "unknown storage class 'BOGUS'",
                 "invalid bucket name 'x'", "invalid bucket name 'UPPER'", "--allow-empty and --as-of need -r",
                 "--expires 8d is longer than 7 days", "ask one question: --show NAME or --sql QUERY",
                 "nothing to change", "refusing to set public ACL 'public-read'", "'2026-01-01' has no time zone",
                 "age '9999999999d' is too large", "'999.1.1.1/33' is not an IPv4", "invalid --bucket-region 'x y'",
                 "'--acl-sample': -1 is not in the range", "unknown check 'no-such-check'",
                 "- is standard output, not a folder", "--sid SID or --all-s3safe", "contradict each other",
                 "--versions lists the versions under an S3URL"):  # fmt: skip
        assert text in result.stderr, (text, result.stderr)
    assert "Traceback" not in result.stderr and "[line 1]" not in result.stderr
    assert _config(isolated_env) == ""  # line 1 never ran
