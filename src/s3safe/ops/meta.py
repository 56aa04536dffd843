"""`meta get` and `meta set`: metadata changes are a copy in place that keeps ACL, encryption and class."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from s3safe.core.errors import S3SafeError, UsageError
from s3safe.core.locations import S3Url
from s3safe.core.models import AclInfo, ActionResult, ObjectDetails, ObjectInfo
from s3safe.core.safety import SafetyGate
from s3safe.ops.targets import iter_targets
from s3safe.ops.where import ObjectFilter
from s3safe.storage.buckets import OWNER_ENFORCED, BucketAdmin
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import MAX_SINGLE_COPY, S3Storage
from s3safe.transfer.download import check_version_id
from s3safe.transfer.encryption import DIGEST_META, ENCRYPTION_META, PLAIN_SIZE_META
from s3safe.transfer.localdest import MTIME_LIMIT
from s3safe.transfer.options import CRC64NVME_META, MODE_META, MTIME_META, SHA256_META, meta_name, parse_meta, parse_meta_names

# Names that are HTTP headers of the object rather than x-amz-meta-* user metadata.
SYSTEM_FIELDS = {
    "content-type": "ContentType",
    "cache-control": "CacheControl",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "content-language": "ContentLanguage",
}


def meta_get(conn: Connection, url: S3Url, *, version_id: str | None = None) -> ObjectDetails:
    """HEAD of the object, or of one version of it."""
    if url.is_prefix:
        raise UsageError(f"{url} names a folder or bucket, not an object")
    check_version_id(version_id)
    return S3Storage(conn).head(url.bucket, url.key, version_id=version_id)


# what s3safe's upload recorded about the bytes it sent: --only-diff and every download check the object by them,
# so a value set by hand would make an unchanged file look changed, or a changed one unchanged
EVIDENCE_FIELDS = frozenset({SHA256_META, CRC64NVME_META, ENCRYPTION_META, DIGEST_META, PLAIN_SIZE_META})


def parse_changes(pairs: Sequence[str], names: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """`--set K=V` and `--unset K` as meta set takes them. A name written with the user-metadata header prefix
    means user metadata: where the rest is also the name of an object header (`x-amz-meta-content-type`) it is
    refused, since meta set reads a bare `content-type` as the header and would change how the object is served."""
    for raw in [pair.partition("=")[0] for pair in pairs] + list(names):
        bare = meta_name(raw).lower()
        if bare != raw.strip().lower() and bare in SYSTEM_FIELDS:
            raise UsageError(f"{raw.strip()!r} is user metadata named like the object's {bare} header, which meta set "
                             f"cannot tell apart from the header itself",
                             hint=f"to change the header write {bare}=VALUE; user metadata needs another name")  # fmt: skip
    changes, remove = parse_meta(list(pairs)), parse_meta_names(list(names))
    check_changes(changes, remove)
    return changes, remove


def check_changes(changes: Mapping[str, str], remove: Sequence[str]) -> None:
    """meta set must change something, and none of s3safe's own evidence (exec's pre-check runs it too)."""
    if not changes and not remove:
        raise UsageError("nothing to change", hint="give --set NAME=VALUE or --unset NAME")
    both = sorted({name.lower() for name in changes} & {name.lower() for name in remove})
    if both:
        raise UsageError(f"{both[0]} is both set and unset", hint="give one of --set and --unset for it")
    touched = sorted({name.lower() for name in (*changes, *remove)} & EVIDENCE_FIELDS)
    if touched:
        raise UsageError(f"{touched[0]} is s3safe's record of the bytes its upload sent; meta set does not change it",
                         hint="upload the file again to record it anew")  # fmt: skip
    # what a restore applies to the file it writes: a value it could not use would be ignored there, with a warning
    for name, value in changes.items():
        if name.lower() == MODE_META and not _MODE_RE.fullmatch(value):
            raise UsageError(f"{MODE_META} must be a file mode in octal, 0000 to 7777 (e.g. 0644), not {value!r}")
        if name.lower() == MTIME_META and not _usable_mtime(value):
            raise UsageError(f"{MTIME_META} must be seconds since 1970-01-01 UTC (e.g. 1700000000.5), at most {MTIME_LIMIT} "
                             f"either way (the year 9999), not {value!r}")  # fmt: skip


_MODE_RE = re.compile(r"[0-7]{1,4}", re.ASCII)
_MTIME_RE = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,9})?", re.ASCII)


def _usable_mtime(value: str) -> bool:
    return bool(_MTIME_RE.fullmatch(value)) and abs(float(value)) <= MTIME_LIMIT


def meta_set(
    conn: Connection,
    url: S3Url,
    *,
    changes: dict[str, str],
    remove: Sequence[str] = (),
    recursive: bool,
    gate: SafetyGate,
    multipart_threshold: int = MAX_SINGLE_COPY,
    where: ObjectFilter | None = None,
) -> Iterator[ActionResult]:
    check_changes(changes, remove)
    storage = S3Storage(conn)
    acls_enabled = BucketAdmin(conn).object_ownership(url.bucket) != OWNER_ENFORCED

    def execute(batch: Sequence[ObjectInfo]) -> list[ActionResult]:
        results = []
        for obj in batch:
            target = f"s3://{obj.bucket}/{obj.key}"
            try:
                _rewrite(storage, conn, obj, changes, remove, acls_enabled=acls_enabled, threshold=multipart_threshold)
                results.append(ActionResult("set-meta", target, detail=_describe(changes, remove)))
            except S3SafeError as exc:
                results.append(ActionResult("set-meta", target, ok=False, error=str(exc)))
        return results

    yield from gate.apply(
        "set-meta",
        iter_targets(storage, url, recursive=recursive, where=where),
        execute,
        describe=lambda obj: f"s3://{obj.bucket}/{obj.key} ({_describe(changes, remove)})",
    )


def _describe(changes: dict[str, str], remove: Sequence[str]) -> str:
    parts = [f"{k}={v}" for k, v in changes.items()] + [f"-{k}" for k in remove]
    return ", ".join(parts)


def _rewrite(
    storage: S3Storage,
    conn: Connection,
    obj: ObjectInfo,
    changes: dict[str, str],
    remove: Sequence[str],
    *,
    acls_enabled: bool,
    threshold: int,
) -> None:
    details = storage.head(obj.bucket, obj.key)
    # A REPLACE copy resets the ACL to private: read it first and put it back afterwards.
    acl = storage.get_acl(obj.bucket, obj.key) if acls_enabled else None
    metadata = {k: v for k, v in details.metadata.items() if k not in remove}
    headers: dict[str, Any] = {
        "ContentType": details.content_type or "application/octet-stream",
        **({"CacheControl": details.cache_control} if details.cache_control else {}),
    }
    for name in remove:
        if name in SYSTEM_FIELDS and SYSTEM_FIELDS[name] in headers:
            del headers[SYSTEM_FIELDS[name]]
    for name, value in changes.items():
        if name in SYSTEM_FIELDS:
            headers[SYSTEM_FIELDS[name]] = value
        else:
            metadata[name] = value
    extra: dict[str, Any] = {"Metadata": metadata, "MetadataDirective": "REPLACE", **headers}
    if details.storage_class and details.storage_class != "STANDARD":
        extra["StorageClass"] = details.storage_class
    if details.sse_algorithm == "aws:kms":
        extra["ServerSideEncryption"] = "aws:kms"
        if details.sse_kms_key_id:
            extra["SSEKMSKeyId"] = details.sse_kms_key_id
    elif details.sse_algorithm == "AES256":
        extra["ServerSideEncryption"] = "AES256"
    elif details.sse_algorithm == "SSE-C":
        raise UsageError("changing metadata of an SSE-C object needs its key; not supported yet")
    if acl is not None:
        # grant headers on the copy itself keep the ACL with no moment where it differs
        extra.update(grant_headers(acl))
    storage.copy(obj.bucket, obj.key, obj.bucket, obj.key, size=details.size, extra=extra,
                 threads=conn.settings.threads, multipart_threshold=threshold)  # fmt: skip


_GRANT_ARGS = {"READ": "GrantRead", "READ_ACP": "GrantReadACP", "WRITE_ACP": "GrantWriteACP", "FULL_CONTROL": "GrantFullControl"}


def grant_headers(acl: AclInfo) -> dict[str, str]:
    """An ACL as x-amz-grant-* arguments (objects have no WRITE permission to carry)."""
    from s3safe.core.models import ALL_USERS_URI, AUTH_USERS_URI, LOG_DELIVERY_URI

    groups = {"AllUsers": ALL_USERS_URI, "AuthenticatedUsers": AUTH_USERS_URI, "LogDelivery": LOG_DELIVERY_URI}
    collected: dict[str, list[str]] = {}
    for grant in acl.grants:
        arg = _GRANT_ARGS.get(grant.permission)
        if arg is None:
            continue
        if grant.grantee_type == "Group":
            grantee = f'uri="{groups.get(grant.grantee, grant.grantee)}"'
        elif grant.grantee_type == "AmazonCustomerByEmail":
            grantee = f'emailAddress="{grant.grantee}"'
        else:
            grantee = f'id="{grant.grantee}"'
        collected.setdefault(arg, []).append(grantee)
    return {arg: ", ".join(values) for arg, values in collected.items()}
