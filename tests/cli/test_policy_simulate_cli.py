"""`policy simulate --from-file` as IAM reads the document (issue 20.10, 20.12) and with the caller's account
and identity policy stated, not silently assumed (20.11). Offline: the endpoint does not exist."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

Run = Callable[..., CompletedProcess[str]]
NOWHERE = ("--endpoint-url", "https://127.0.0.1:9")
CAROL = "arn:aws:iam::444455556666:user/carol"  # another account, never named by the policies below


def _simulate(run_cli: Run, path: Path, document: Any, *args: str) -> CompletedProcess[str]:
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return run_cli(*NOWHERE, "policy", "simulate", "s3://b-bucket", "--action", "s3:GetObject", "--from-file", str(path), *args)


def _decision(result: CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stderr
    return str(json.loads(result.stdout)["decision"])


LITERAL_VAR = {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b-bucket/${aws:username}/*"}


@pytest.mark.parametrize("header", [{"Version": "2008-10-17"}, {}], ids=["2008-10-17", "no-version"])
def test_a_legacy_policy_keeps_variables_as_literal_text(run_cli: Run, tmp_path: Path, header: dict[str, str]) -> None:
    """Under 2008-10-17 (the default without Version) "${aws:username}" is literal: the object named
    "${aws:username}/x" is public; rewrapping the statements as 2012-10-17 hid that."""
    doc = {**header, "Statement": [LITERAL_VAR]}
    literal = _simulate(run_cli, tmp_path / "p.json", doc, "--key", "${aws:username}/x", "--json")
    assert _decision(literal) == "allow"
    as_alice = _simulate(run_cli, tmp_path / "p.json", doc, "--key", "alice/x", "--principal", "arn:aws:iam::111122223333:user/alice",
                         "--identity-policy", "deny", "--json")  # fmt: skip
    assert _decision(as_alice) == "implicit-deny"


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        ({"Version": "2012-10-18", "Statement": [LITERAL_VAR]}, "Version must be"),
        ({"Version": "2012-10-17", "Statment": [], "Statement": [LITERAL_VAR]}, "unknown top-level element(s) Statment"),
        ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Effect": "Deny", "Principal": "*", '
         '"Action": "s3:GetObject", "Resource": "*"}]}', "repeats the key 'Effect'"),
    ],
    ids=["bad-version", "unknown-top-level", "duplicate-key"],
)
def test_a_malformed_policy_file_is_a_usage_error(run_cli: Run, tmp_path: Path, document: Any, needle: str) -> None:
    result = _simulate(run_cli, tmp_path / "p.json", document, "--key", "k")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert len(errors) == 1 and needle in errors[0], result.stderr


PUBLIC_SITE = {"Version": "2012-10-17", "Statement": [
    {"Sid": "Site", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b-bucket/site/*"}]}  # fmt: skip


def test_a_principal_of_an_unknown_account_is_not_assumed_to_own_the_bucket(run_cli: Run, tmp_path: Path) -> None:
    """Carol's account is not the bucket's as far as anyone knows: her own IAM policy cannot open the
    bucket to her; the bucket policy would have to. The output says what was assumed."""
    result = _simulate(run_cli, tmp_path / "p.json", PUBLIC_SITE, "--key", "private/x", "--principal", CAROL)
    assert result.returncode == 0, result.stderr
    assert "decision: implicit-deny" in result.stdout
    assert "assumed: the bucket's account is unknown" in result.stdout
    assert f"assumed: {CAROL}'s own IAM policy allows s3:GetObject" in result.stdout
    record = json.loads(_simulate(run_cli, tmp_path / "p.json", PUBLIC_SITE, "--key", "private/x", "--principal", CAROL, "--json").stdout)
    assert record["decision"] == "implicit-deny" and len(record["assumptions"]) == 2


def test_the_bucket_account_and_identity_policy_can_be_given(run_cli: Run, tmp_path: Path) -> None:
    own = ("--key", "private/x", "--principal", CAROL, "--bucket-account", "444455556666", "--json")
    assert _decision(_simulate(run_cli, tmp_path / "p.json", PUBLIC_SITE, *own)) == "allow"  # her account, her IAM allows
    assert _decision(_simulate(run_cli, tmp_path / "p.json", PUBLIC_SITE, *own, "--identity-policy", "deny")) == "implicit-deny"
    bad = _simulate(run_cli, tmp_path / "p.json", PUBLIC_SITE, *own[:-1], "--bucket-account", "12")
    assert bad.returncode == 2 and "not a 12-digit AWS account id" in bad.stderr


@pytest.mark.parametrize("header", [{"Version": "2008-10-17"}, {}], ids=["2008-10-17", "no-version"])
def test_apply_refuses_to_merge_legacy_literal_variables(run_cli: Run, tmp_path: Path, header: dict[str, str]) -> None:
    """Merged into a 2012-10-17 bucket policy, the literal "${aws:username}" would become a variable."""
    path = tmp_path / "legacy.json"
    path.write_text(json.dumps({**header, "Statement": [{**LITERAL_VAR, "Sid": "Legacy"}]}))
    result = run_cli(*NOWHERE, "policy", "apply", "s3://b-bucket", "--from-file", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert len(errors) == 1 and "where ${...} is literal text" in errors[0], result.stderr
