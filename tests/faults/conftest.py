"""Fixtures for the fault scenarios: trees of random files, the fault proxy, and s3safe as a child process.

Every test here carries the `faults` marker (added below), so `pytest -m faults` runs exactly this tier.
"""

from __future__ import annotations

import hashlib
import os
import random
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config

from tests.conftest import S3SAFE
from tests.faults.proxy import FaultProxy
from tests.servers.moto import MotoServer
from tests.servers.rclone import RcloneServer

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.faults)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def make_tree(root: Path, *, small: int, small_max: int, big: list[int], seed: int) -> dict[str, str]:
    """`small` files of 0..small_max random bytes in nested folders, plus one file per size in `big`.

    Returns {relative key: sha256 hex}.
    """
    rng = random.Random(seed)
    digests: dict[str, str] = {}
    for i in range(small):
        rel = f"d{i % 23:02d}/s{i % 7}/f{i:05d}.bin"
        data = rng.randbytes(rng.randint(0, small_max))
        _write(root, rel, data, digests)
    for i, size in enumerate(big):
        _write(root, f"big/b{i:02d}.bin", rng.randbytes(size), digests)
    return digests


def _write(root: Path, rel: str, data: bytes, digests: dict[str, str]) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    digests[rel] = hashlib.sha256(data).hexdigest()


def local_digests(root: Path, *, skip_temp: bool = True) -> dict[str, str]:
    out: dict[str, str] = {}
    for path in root.rglob("*"):
        if path.is_file() and not (skip_temp and path.name.endswith(".s3safe-tmp")):
            out[path.relative_to(root).as_posix()] = sha256_file(path)
    return out


@dataclass
class Target:
    """One S3 endpoint as s3safe (a child process) and an independent boto3 client see it."""

    endpoint_url: str
    access_key: str
    secret_key: str
    ca_bundle: str | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def args(self) -> list[str]:
        base = ["--endpoint-url", self.endpoint_url]
        if self.endpoint_url.startswith("http://"):
            base.append("--allow-http")
        if self.ca_bundle:
            base += ["--ca-bundle", self.ca_bundle]
        return base

    def command(self, *args: str) -> list[str]:
        return [S3SAFE, *self.args, *args]

    def run(self, *args: str, timeout: float = 300, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.command(*args), capture_output=True, text=True, env={**self.full_env(), **(extra_env or {})},
                              timeout=timeout, check=False)  # fmt: skip

    def popen(self, *args: str, log: Path, **kwargs: Any) -> subprocess.Popen[bytes]:
        with log.open("ab") as out:
            return subprocess.Popen(self.command(*args), env=self.full_env(), stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True, **kwargs)  # fmt: skip

    def full_env(self) -> dict[str, str]:
        return {**os.environ, "AWS_ACCESS_KEY_ID": self.access_key, "AWS_SECRET_ACCESS_KEY": self.secret_key,
                "AWS_DEFAULT_REGION": "us-east-1", **self.env}  # fmt: skip

    def client(self, direct_endpoint: str | None = None) -> Any:
        return boto3.client(
            "s3", endpoint_url=direct_endpoint or self.endpoint_url, region_name="us-east-1",
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key,
            verify=self.ca_bundle or True,
            config=Config(response_checksum_validation="when_required", request_checksum_calculation="when_required"),
        )  # fmt: skip


def bucket_digests(client: Any, bucket: str, prefix: str = "") -> dict[str, str]:
    """{key relative to prefix: sha256 of the object's bytes}, read back through the S3 API."""
    out: dict[str, str] = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=item["Key"])["Body"].read()
            out[item["Key"][len(prefix) :]] = hashlib.sha256(body).hexdigest()
    return out


def open_uploads(client: Any, bucket: str) -> list[dict[str, Any]]:
    return list(client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))


@pytest.fixture
def rclone_target(rclone: RcloneServer) -> Target:
    return Target(rclone.endpoint_url, rclone.access_key, rclone.secret_key, ca_bundle=rclone.ca_bundle)


@pytest.fixture
def moto_target(moto: MotoServer) -> Target:
    return Target(moto.endpoint_url, moto.access_key, moto.secret_key)


@pytest.fixture
def proxy(moto: MotoServer) -> Iterator[FaultProxy]:
    """The fault proxy in front of moto (plain HTTP on loopback, so the proxy can frame requests)."""
    parts = urlsplit(moto.endpoint_url)
    assert parts.hostname == "127.0.0.1" and parts.port
    fault_proxy = FaultProxy(parts.hostname, parts.port)
    yield fault_proxy
    fault_proxy.stop()


@pytest.fixture
def proxied(proxy: FaultProxy, moto: MotoServer) -> Target:
    """moto as s3safe sees it through the proxy; `.client(moto.endpoint_url)` bypasses the proxy for checks."""
    return Target(proxy.endpoint_url, moto.access_key, moto.secret_key)
