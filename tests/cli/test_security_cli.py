"""The security commands as a user runs them: exit codes, one-line errors, what goes to stdout and stderr."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
NOWHERE = ("--endpoint-url", "https://127.0.0.1:9")  # every case below fails before any request


def _one_line_error(result: CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("presign", "s3://b-bucket/k", "--expires", "8d"), "longer than 7 days"),
        (("presign", "s3://b-bucket/k", "--expires", "soon"), "invalid duration"),
        (("presign", "s3://b-bucket/k", "--max-size", "10"), "cannot limit the size"),
        (("presign", "s3://b-bucket/dir/", "--method", "PUT"), "needs an object key"),
        (("presign", "s3://b-bucket/k", "--method", "POST", "--max-size", "6GiB"), "above 5 GiB"),
        (("policy", "apply", "s3://b-bucket", "--allow-ip", "10.0.0.0/33"), "not an IPv4 or IPv6 address or CIDR"),
        (("policy", "apply", "s3://b-bucket", "--deny-ip", "10.0.0.1/24"), "host bits set"),
        (("policy", "apply", "s3://b-bucket"), "nothing to apply"),
        (("policy", "apply", "s3://b-bucket/key", "--require-tls"), "takes a bucket"),
        (("policy", "simulate", "s3://b-bucket", "--action", "s3:GetObjekt", "--key", "k"), "did you mean s3:GetObject"),
        (("policy", "simulate", "s3://b-bucket", "--action", "s3:GetObject"), "give --key"),
        (("policy", "simulate", "s3://b-bucket", "--action", "s3:GetObject", "--key", "k", "--source-ip", "nope"), "--source-ip"),
        (("policy", "remove", "s3://b-bucket"), "--sid SID or --all-s3safe"),
        (("logging", "enable", "s3://b-bucket", "--target", "s3://b-bucket/logs/"), "cannot hold its own access logs"),
        (("logging", "enable", "s3://b-bucket", "--target", "s3://l-bucket/", "--retain-days", "0"), "--retain-days"),
        (("harden", "s3://b-bucket/key"), "takes a bucket"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_cli: Run, args: tuple[str, ...], needle: str) -> None:
    result = run_cli(*NOWHERE, *args)
    assert result.returncode == 2, result.stderr
    assert needle in _one_line_error(result)


def test_require_sse_takes_an_optional_algorithm(run_cli: Run) -> None:
    result = run_cli(*NOWHERE, "policy", "apply", "s3://b-bucket", "--require-sse", "DES")
    assert result.returncode == 2 and "'DES' is not one of" in result.stderr


@pytest.fixture
def moto_cli(run_cli: Run, moto: MotoServer) -> Run:
    def run(*args: str, env: dict[str, str] | None = None) -> CompletedProcess[str]:
        return run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", *args, env=env)

    return run


def test_presign_url_alone_on_stdout_and_never_in_debug_logs(moto_cli: Run) -> None:
    result = moto_cli("presign", "s3://any-bucket/report.pdf", "--debug")
    assert result.returncode == 0, result.stderr
    url = result.stdout.strip()
    assert result.stdout.count("\n") == 1 and url.startswith("http://127.0.0.1:")
    signature = url.rsplit("X-Amz-Signature=", 1)[1]
    assert len(signature) == 64
    # debug logging really ran (with awscrt installed botocore signs through the CRT, which logs no signature
    # lines; without it botocore.auth logs them and they must be masked: the line below covers both)
    assert "DEBUG botocore." in result.stderr
    assert signature not in result.stderr
    # botocore's own signer (no awscrt) logs the signature on a line of its own: it must come out masked
    assert "Signature: ****" in result.stderr or "botocore.auth" not in result.stderr

    post = moto_cli("presign", "s3://any-bucket/in/", "--method", "POST", "--max-size", "1MB", "--debug")
    form = json.loads(post.stdout)
    assert form["fields"]["x-amz-signature"] not in post.stderr
    assert form["curl"].startswith("curl ") and "file=@FILE" in form["curl"]


def test_presign_json_and_put_headers(moto_cli: Run) -> None:
    result = moto_cli("presign", "s3://any-bucket/up.txt", "--method", "PUT", "--content-type", "text/plain", "--sse", "AES256", "--json")
    record = json.loads(result.stdout)
    assert record["headers"] == {"Content-Type": "text/plain", "x-amz-server-side-encryption": "AES256"}
    assert "X-Amz-Signature=" in record["url"] and "****" not in record["url"]


def test_presign_warns_about_session_tokens_of_unknown_expiry(moto_cli: Run) -> None:
    result = moto_cli("presign", "s3://any-bucket/k", env={"AWS_SESSION_TOKEN": "FwoGZXIvYXdzEXAMPLETOKEN"})
    assert result.returncode == 0, result.stderr
    assert "temporary" in result.stderr and "expiry is unknown" in result.stderr
    assert "X-Amz-Security-Token=" in result.stdout


def test_presign_warns_when_credentials_expire_before_the_url(moto_cli: Run, moto: MotoServer, isolated_env: Path, tmp_path: Path) -> None:
    """A credential_process profile gives botocore RefreshableCredentials with a known expiry (like SSO/STS)."""
    expiry = (datetime.now(UTC) + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    creds = {"Version": 1, "AccessKeyId": moto.access_key, "SecretAccessKey": moto.secret_key,
             "SessionToken": "temporary-session-token", "Expiration": expiry}  # fmt: skip
    script = tmp_path / "creds.py"
    script.write_text(f"import json\nprint(json.dumps({creds!r}))\n")
    (isolated_env / "aws-config").write_text(f"[profile temp]\ncredential_process = {sys.executable} {script}\n")
    env = {"AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""}
    long = moto_cli("--profile", "temp", "presign", "s3://any-bucket/k", "--expires", "2h", env=env)
    assert long.returncode == 0, long.stderr
    assert f"expire at {expiry.replace('T', ' ').rstrip('Z')} UTC, before the URL" in long.stderr
    short = moto_cli("--profile", "temp", "presign", "s3://any-bucket/k", "--expires", "10m", env=env)
    assert short.returncode == 0 and "warning: the signing credentials" not in short.stderr


def test_simulate_a_policy_file_offline(run_cli: Run, tmp_path: Path) -> None:
    """With --from-file nothing is asked of the store (the endpoint here does not exist)."""
    statement = {"Sid": "PublicReadOfWebsite", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": "arn:aws:s3:::b-bucket/site/*"}  # fmt: skip
    (tmp_path / "p.json").write_text(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    base = (*NOWHERE, "policy", "simulate", "s3://b-bucket", "--action", "s3:GetObject", "--from-file", str(tmp_path / "p.json"), "--json")
    inside = run_cli(*base, "--key", "site/index.html")
    outside = run_cli(*base, "--key", "private/keys.txt")
    assert inside.returncode == 0 and outside.returncode == 0, inside.stderr + outside.stderr
    assert (json.loads(inside.stdout)["decision"], json.loads(inside.stdout)["sid"]) == ("allow", "PublicReadOfWebsite")
    assert json.loads(outside.stdout)["decision"] == "implicit-deny"
