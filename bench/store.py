"""Tool-independent look at the bucket: boto3 through the server, and the server's backing files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datagen import Dataset

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
else:
    S3Client = Any


def client(url: str, access_key: str, secret_key: str) -> S3Client:
    import boto3
    from botocore.config import Config

    config = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=20)
    session = boto3.session.Session(aws_access_key_id=access_key, aws_secret_access_key=secret_key, region_name="us-east-1")
    return session.client("s3", endpoint_url=url, config=config)


def listing(s3: S3Client, bucket: str, prefix: str) -> dict[str, int]:
    """key relative to `prefix` -> size, for every object under it."""
    found: dict[str, int] = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            found[item["Key"][len(prefix) :]] = int(item["Size"])
    return found


def clear(s3: S3Client, bucket: str, prefix: str) -> None:
    """Delete everything under `prefix` and check that it is gone."""
    keys = [prefix + rel for rel in listing(s3, bucket, prefix)]
    for start in range(0, len(keys), 1000):
        batch = [{"Key": key} for key in keys[start : start + 1000]]
        answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})  # type: ignore[typeddict-item]
        if answer.get("Errors"):
            raise RuntimeError(f"could not clear s3://{bucket}/{prefix}: {answer['Errors'][:3]}")
    left = listing(s3, bucket, prefix)
    if left:
        raise RuntimeError(f"s3://{bucket}/{prefix} still holds {len(left)} objects after clearing")


def remote_problems(dataset: Dataset, found: dict[str, int]) -> list[str]:
    """What is wrong with an uploaded copy of `dataset` ([] when every file landed with its size)."""
    problems: list[str] = []
    missing = sorted(set(dataset.files) - set(found))
    extra = sorted(set(found) - set(dataset.files))
    if missing:
        problems.append(f"{len(missing)} of {dataset.count} objects missing (e.g. {missing[0]})")
    if extra:
        problems.append(f"{len(extra)} unexpected objects (e.g. {extra[0]})")
    wrong = [rel for rel, size in found.items() if rel in dataset.files and dataset.files[rel][0] != size]
    if wrong:
        problems.append(f"{len(wrong)} objects with the wrong size (e.g. {wrong[0]})")
    return problems


def backing_snapshot(root: Path, bucket: str, prefix: str) -> dict[str, tuple[int, int, int, int]]:
    """(inode, size, mtime_ns, ctime_ns) of each file the server keeps under the prefix: any write shows."""
    base = root / bucket / prefix
    snapshot: dict[str, tuple[int, int, int, int]] = {}
    for directory, _, names in os.walk(base):
        for name in names:
            path = os.path.join(directory, name)
            st = os.stat(path)
            snapshot[os.path.relpath(path, base)] = (st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    return snapshot


def changed(before: dict[str, tuple[int, int, int, int]], after: dict[str, tuple[int, int, int, int]]) -> int:
    return len(set(before) ^ set(after)) + sum(1 for rel in before if rel in after and before[rel] != after[rel])
