"""S3 Inventory configurations of a bucket (PutBucketInventoryConfiguration and the list call)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from s3safe.core.errors import ListingError
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated
from s3safe.storage.listing_guard import ListingGuard, checked_pages
from s3safe.storage.services import error_code

MAX_PAGES = 1000  # S3 holds at most 1,000 inventory configurations per bucket: a page each at the very least


def list_inventories(conn: Connection, bucket: str) -> list[dict[str, Any]]:
    """Every inventory configuration of the bucket (all pages). A page that says it is truncated without a
    token for the rest, a token handed out twice, or pages past S3's own bound raise ListingError: a short
    list would have `audit --inventory` and `inventory status` miss a configuration without a word."""
    import botocore.exceptions

    client = conn.client_for(bucket)
    guard = ListingGuard(f"the inventory configurations of s3://{bucket} from {conn.settings.endpoint_url or 'AWS S3'}")
    found: list[dict[str, Any]] = []
    with translated("list the inventory configurations of", bucket=bucket):
        try:
            pages = checked_pages(_pages(client, bucket), guard, tokens=("NextContinuationToken",),
                                  listed=("InventoryConfigurationList",))  # fmt: skip
            for page in pages:
                found += [dict(c) for c in page.get("InventoryConfigurationList", [])]
                if not page.get("IsTruncated"):
                    return found
        except botocore.exceptions.ClientError as exc:
            if error_code(exc).startswith("NoSuch") and error_code(exc) != "NoSuchBucket":
                return []
            raise
    raise ListingError(f"the listing of {guard.what} goes on past {MAX_PAGES:,} pages, more than S3's "
                       f"{MAX_PAGES:,} configurations could fill; stopped", hint="this is a server bug: report it to the server's maintainers")  # fmt: skip


def _pages(client: Any, bucket: str) -> Iterator[dict[str, Any]]:
    """The answers, each asking with the previous one's token (botocore has no paginator for this call); the
    caller stops at the page that is not truncated, checked_pages at one that cannot be followed."""
    params: dict[str, Any] = {"Bucket": bucket}
    for _ in range(MAX_PAGES):
        response = client.list_bucket_inventory_configurations(**params)
        yield response
        params["ContinuationToken"] = response.get("NextContinuationToken")


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
