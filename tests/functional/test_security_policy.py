"""`policy apply|show|remove|simulate` against moto, read back through an independent boto3 client.

moto stores policies without enforcing them, so the stored document is read back and its meaning is
checked with `policy simulate` (s3safe's own evaluator) on the FAQ cases.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
from botocore.exceptions import ClientError

from s3safe.core.locations import S3Url
from s3safe.ops.policy import SimulationRequest, simulate
from s3safe.security.policy_templates import TemplateOptions, build_statements
from s3safe.storage.connection import Connection
from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
FAQ = ("--private-acl-only", "--require-sse", "--require-tls", "--allow-ip", "192.168.143.0/24", "--deny-ip", "192.168.143.188/32")
INSIDE = ("--caller-ip", "192.168.143.5")
USER = "arn:aws:iam::123456789012:user/alice"


def _partner(bucket: str) -> dict[str, Any]:
    return {
        "Sid": "AllowPartnerRead",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/shared/*",
    }


@pytest.fixture
def cli(run_cli: Run, moto: MotoServer) -> Run:
    def run(*args: str) -> CompletedProcess[str]:
        return run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", *args)

    return run


@pytest.fixture
def bucket(moto_client: Any, bucket_name: Callable[[], str]) -> str:
    name = bucket_name()
    moto_client.create_bucket(Bucket=name)
    return name


def _stored(client: Any, bucket: str) -> str:
    return str(client.get_bucket_policy(Bucket=bucket)["Policy"])


def _policy_puts(moto: MotoServer) -> list[dict[str, Any]]:
    return [r for r in moto.stop_recording() if r["method"] in ("PUT", "DELETE") and "policy" in r["url"]]


def test_faq_templates_are_stored_and_shown_as_equivalent_statements(cli: Run, moto_client: Any, bucket: str) -> None:
    applied = cli("policy", "apply", f"s3://{bucket}", *FAQ, *INSIDE)
    assert applied.returncode == 0, applied.stderr
    assert "+      \"Sid\": \"S3SafeDenyBlockedIps\"," in applied.stdout  # the diff came first
    shown = cli("policy", "show", f"s3://{bucket}", "--json")
    assert shown.returncode == 0, shown.stderr
    record = json.loads(shown.stdout)
    faq = TemplateOptions(private_acl_only=True, require_sse=(), require_tls=True,
                          allow_ips=("192.168.143.0/24",), deny_ips=("192.168.143.188/32",))  # fmt: skip
    assert record["policy"]["Statement"] == build_statements(bucket, faq)
    assert json.loads(_stored(moto_client, bucket)) == record["policy"]
    summary = "\n".join(record["summary"])
    assert "aws:SourceIp is not in 192.168.143.0/24" in summary
    assert "aws:SecureTransport is false" in summary
    text = cli("policy", "show", f"s3://{bucket}")
    assert '  "Version": "2012-10-17",' in text.stdout.splitlines()  # pretty JSON, one element a line
    assert "5 statement(s):" in text.stdout


FAQ_CASES = [  # (what, request, decision, deciding Sid): the S3Express FAQ policies' intent
    ("public ACL", SimulationRequest("s3:PutObject", "a.txt", USER, "192.168.143.5", acl="public-read"), "explicit-deny", "S3SafeDenyNonPrivateAcl"),
    ("other SSE", SimulationRequest("s3:PutObject", "a.txt", USER, "192.168.143.5", sse="aws:kms:dsse"), "explicit-deny", "S3SafeDenyUnapprovedSse"),
    ("blocked IP", SimulationRequest("s3:PutObject", "a.txt", USER, "192.168.143.188", sse="AES256"), "explicit-deny", "S3SafeDenyBlockedIps"),
    ("outside range", SimulationRequest("s3:GetObject", "a.txt", USER, "10.1.2.3"), "explicit-deny", "S3SafeDenyOutsideAllowedIps"),
    ("plain HTTP", SimulationRequest("s3:GetObject", "a.txt", USER, "192.168.143.5", secure_transport=False), "explicit-deny", "S3SafeDenyInsecureTransport"),
    ("allowed", SimulationRequest("s3:PutObject", "a.txt", USER, "192.168.143.5", acl="private", sse="AES256"), "allow", None),
]


def test_stored_policy_means_what_the_faq_says(cli: Run, moto_conn: Connection, bucket: str) -> None:
    assert cli("policy", "apply", f"s3://{bucket}", *FAQ, *INSIDE).returncode == 0
    for what, request, decision, sid in FAQ_CASES:
        result = simulate(moto_conn, S3Url(bucket), request)
        assert (result.decision, result.sid) == (decision, sid), f"{what}: {result.explanation}"


def test_simulate_prints_the_decision_and_the_deciding_statement(cli: Run, bucket: str) -> None:
    assert cli("policy", "apply", f"s3://{bucket}", *FAQ, *INSIDE).returncode == 0
    args = ("policy", "simulate", f"s3://{bucket}", "--action", "s3:PutObject", "--key", "a.txt", "--source-ip", "192.168.143.188")
    text = cli(*args)
    assert text.returncode == 0, text.stderr  # a deny is an answer, not a failure
    assert "decision: explicit-deny" in text.stdout
    assert "deciding statement: #4 (S3SafeDenyBlockedIps)" in text.stdout
    record = json.loads(cli(*args, "--json").stdout)
    assert (record["decision"], record["sid"]) == ("explicit-deny", "S3SafeDenyBlockedIps")


def test_apply_twice_is_byte_identical_and_puts_nothing_the_second_time(
    cli: Run, moto: MotoServer, moto_client: Any, bucket: str
) -> None:
    existing = {"Version": "2012-10-17", "Statement": [_partner(bucket)]}
    moto_client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(existing))
    first = cli("policy", "apply", f"s3://{bucket}", *FAQ, *INSIDE)
    assert first.returncode == 0, first.stderr
    before = _stored(moto_client, bucket)
    statements = json.loads(before)["Statement"]
    assert statements[0] == _partner(bucket)  # the unrelated statement survives, first and unchanged
    assert len(statements) == 6
    moto.start_recording()
    second = cli("policy", "apply", f"s3://{bucket}", *FAQ, *INSIDE)
    puts = _policy_puts(moto)
    assert second.returncode == 0, second.stderr
    assert "no change" in second.stdout
    assert puts == []
    assert _stored(moto_client, bucket) == before


def test_dry_run_shows_the_diff_and_changes_nothing(cli: Run, moto: MotoServer, moto_client: Any, bucket: str) -> None:
    moto.start_recording()
    result = cli("policy", "apply", f"s3://{bucket}", "--require-tls", "--dry-run")
    puts = _policy_puts(moto)
    assert result.returncode == 0, result.stderr
    assert '+      "Sid": "S3SafeDenyInsecureTransport",' in result.stdout
    assert "(dry run) would put-policy" in result.stdout
    assert puts == []
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):
        moto_client.get_bucket_policy(Bucket=bucket)


def test_remove_by_sid_and_all_s3safe(cli: Run, moto_client: Any, bucket: str) -> None:
    moto_client.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [_partner(bucket)]}))
    assert cli("policy", "apply", f"s3://{bucket}", *FAQ, *INSIDE).returncode == 0
    removed = cli("policy", "remove", f"s3://{bucket}", "--sid", "S3SafeDenyBlockedIps")
    assert removed.returncode == 0, removed.stderr
    sids = [s["Sid"] for s in json.loads(_stored(moto_client, bucket))["Statement"]]
    assert "S3SafeDenyBlockedIps" not in sids and "S3SafeDenyOutsideAllowedIps" in sids
    missing = cli("policy", "remove", f"s3://{bucket}", "--sid", "S3SafeDenyBlockedIps")
    assert missing.returncode == 3 and "no statement with Sid" in missing.stderr
    assert cli("policy", "remove", f"s3://{bucket}", "--all-s3safe").returncode == 0
    assert json.loads(_stored(moto_client, bucket))["Statement"] == [_partner(bucket)]
    assert cli("policy", "remove", f"s3://{bucket}", "--sid", "AllowPartnerRead").returncode == 0
    with pytest.raises(ClientError, match="NoSuchBucketPolicy"):  # no statement left: the policy is deleted
        moto_client.get_bucket_policy(Bucket=bucket)


def test_lock_out_is_refused_unless_the_caller_is_inside_or_forced(cli: Run, moto: MotoServer, moto_client: Any, bucket: str) -> None:
    moto.start_recording()
    unknown = cli("policy", "apply", f"s3://{bucket}", "--allow-ip", "192.168.143.0/24")
    outside = cli("policy", "apply", f"s3://{bucket}", "--allow-ip", "192.168.143.0/24", "--caller-ip", "10.0.0.7")
    assert _policy_puts(moto) == []
    assert unknown.returncode == 7 and "--caller-ip" in unknown.stderr and "would deny you" in unknown.stderr
    assert outside.returncode == 7 and "from 10.0.0.7" in outside.stderr
    assert "Traceback" not in unknown.stderr + outside.stderr
    forced = cli("policy", "apply", f"s3://{bucket}", "--allow-ip", "192.168.143.0/24", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "warning: --force: this policy would deny you" in forced.stderr
    assert "S3SafeDenyOutsideAllowedIps" in _stored(moto_client, bucket)


def test_show_without_a_policy_is_not_an_error(cli: Run, bucket: str) -> None:
    result = cli("policy", "show", f"s3://{bucket}")
    assert result.returncode == 0, result.stderr
    assert "has no bucket policy" in result.stdout


def test_from_file_merges_and_validates(cli: Run, moto_client: Any, bucket: str, tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"Statement": [_partner(bucket)]}))
    assert cli("policy", "apply", f"s3://{bucket}", "--from-file", str(good), "--require-tls").returncode == 0
    assert [s["Sid"] for s in json.loads(_stored(moto_client, bucket))["Statement"]] == ["S3SafeDenyInsecureTransport", "AllowPartnerRead"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**_partner(bucket), "Sid": "Elsewhere", "Resource": "arn:aws:s3:::another-bucket/*"}))
    refused = cli("policy", "apply", f"s3://{bucket}", "--from-file", str(bad))
    assert refused.returncode == 2
    assert "outside bucket" in refused.stderr
