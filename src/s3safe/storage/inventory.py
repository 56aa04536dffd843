"""S3 Inventory configurations of a bucket (PutBucketInventoryConfiguration and the list call)."""

from __future__ import annotations

from typing import Any

from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated
from s3safe.storage.services import error_code


def list_inventories(conn: Connection, bucket: str) -> list[dict[str, Any]]:
    """Every inventory configuration of the bucket (all pages)."""
    import botocore.exceptions

    client = conn.client_for(bucket)
    found: list[dict[str, Any]] = []
    token: str | None = None
    with translated("list the inventory configurations of", bucket=bucket):
        for _ in range(1000):  # 1,000 configurations per bucket at most (S3's own limit)
            params: dict[str, Any] = {"Bucket": bucket}
            if token:
                params["ContinuationToken"] = token
            try:
                response = client.list_bucket_inventory_configurations(**params)
            except botocore.exceptions.ClientError as exc:
                if error_code(exc).startswith("NoSuch") and error_code(exc) != "NoSuchBucket":
                    return []
                raise
            found += [dict(c) for c in response.get("InventoryConfigurationList", [])]
            token = response.get("NextContinuationToken")
            if not response.get("IsTruncated") or not token:
                break
    return found


def put_inventory(conn: Connection, bucket: str, config: dict[str, Any]) -> None:
    with translated("set the inventory configuration of", bucket=bucket):
        conn.client_for(bucket).put_bucket_inventory_configuration(Bucket=bucket, Id=config["Id"], InventoryConfiguration=config)  # type: ignore[arg-type]


def get_inventory(conn: Connection, bucket: str, config_id: str) -> dict[str, Any] | None:
    """One configuration by id (None when there is none): the read a decision is based on, as list answers
    may abbreviate (moto's list, for one, garbles OptionalFields)."""
    import botocore.exceptions

    with translated("read the inventory configuration of", bucket=bucket):
        try:
            response = conn.client_for(bucket).get_bucket_inventory_configuration(Bucket=bucket, Id=config_id)
        except botocore.exceptions.ClientError as exc:
            # AWS says NoSuchConfiguration, moto NoSuchInventoryConfig; a missing bucket stays an error
            if error_code(exc).startswith("NoSuch") and error_code(exc) != "NoSuchBucket":
                return None
            raise
    return dict(response.get("InventoryConfiguration", {}))
