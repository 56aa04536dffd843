"""`policy simulate` on a live bucket (moto) derives the bucket's account from the credentials (STS
GetCallerIdentity) and says so (issue 20.11): a principal of that account may be allowed by its own IAM
policy, a principal of another account is not, unless the bucket policy allows it too."""

from __future__ import annotations

import json
from collections.abc import Callable
from subprocess import CompletedProcess
from typing import Any

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
MOTO_ACCOUNT = "123456789012"  # what moto's STS answers


@pytest.fixture
def simulate(run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str]) -> Callable[..., dict[str, Any]]:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)  # no bucket policy

    def run(principal: str, *extra: str) -> dict[str, Any]:
        result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "--json", "policy", "simulate", f"s3://{bucket}",
                         "--action", "s3:GetObject", "--key", "k", "--principal", principal, *extra)  # fmt: skip
        assert result.returncode == 0, result.stderr
        record: dict[str, Any] = json.loads(result.stdout)
        return record

    return run


def test_the_bucket_account_comes_from_the_credentials_and_is_stated(simulate: Callable[..., dict[str, Any]]) -> None:
    own = simulate(f"arn:aws:iam::{MOTO_ACCOUNT}:user/alice")
    assert own["decision"] == "allow"
    assert any(f"account {MOTO_ACCOUNT}, the account of your credentials (STS GetCallerIdentity)" in a for a in own["assumptions"])
    stranger = simulate("arn:aws:iam::444455556666:user/carol")
    assert stranger["decision"] == "implicit-deny"
    assert "another account" in stranger["explanation"]
    told = simulate("arn:aws:iam::444455556666:user/carol", "--bucket-account", "444455556666")
    assert told["decision"] == "allow" and any("(--bucket-account)" in a for a in told["assumptions"])
