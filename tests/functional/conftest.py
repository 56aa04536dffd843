from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from s3safe.core.settings import ConnectionSettings
from s3safe.storage.connection import Connection
from tests.servers.moto import MotoServer
from tests.servers.rclone import RcloneServer


@pytest.fixture
def moto_conn(moto: MotoServer) -> Connection:
    return Connection(ConnectionSettings(endpoint_url=moto.endpoint_url, allow_http=True, region="us-east-1"))


@pytest.fixture
def rclone_conn(rclone: RcloneServer) -> Connection:
    return Connection(ConnectionSettings(endpoint_url=rclone.endpoint_url, ca_bundle=rclone.ca_bundle, region="us-east-1"))


@pytest.fixture
def moto_client(moto: MotoServer) -> Any:
    """A plain boto3 client, used to arrange fixtures and to check results independently of s3safe."""
    return boto3.client(
        "s3", endpoint_url=moto.endpoint_url, region_name="us-east-1",
        aws_access_key_id=moto.access_key, aws_secret_access_key=moto.secret_key,
    )  # fmt: skip


@pytest.fixture
def acl_bucket(moto_client: Any, bucket_name: Callable[[], str]) -> str:
    """A bucket with ACLs enabled (Object Ownership = ObjectWriter), as older buckets have."""
    name = bucket_name()
    moto_client.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    return name
