"""Conditional writes: If-None-Match: * (create only) and If-Match: ETAG (replace only that version).

AWS S3 (since 2024) and moto honour both on PutObject; moto also honours If-None-Match on
CompleteMultipartUpload but ignores If-Match there, and `rclone serve s3` ignores both everywhere (the write
simply happens). So whether an endpoint honours them is probed once per run: a PUT of a key that does not
exist, with an If-Match no object can satisfy. An endpoint that honours conditions refuses it (412, or 404 for
the missing key) and nothing is written; one that ignores them writes an empty probe object, which is deleted
at once. Where they are ignored, the condition is checked by a HEAD just before the write instead, which is
not atomic: a warning says so, once.
"""

from __future__ import annotations

import logging
import uuid

from s3safe.core.context import loose_end
from s3safe.core.errors import AccessDeniedError, ConditionFailed, NotFoundError, S3SafeError, WriteConflict
from s3safe.storage.base import PROBE_PREFIX, WriteCondition
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated
from s3safe.storage.probes import NO_SUCH_ETAG, probed_once, remove_probe, sweep_probe

log = logging.getLogger("s3safe.conditional")

__all__ = ["WriteCondition", "check_by_head", "conflict", "honours_conditions", "prepare"]


def conflict(condition: WriteCondition, *, bucket: str, key: str, no_clobber: bool = True) -> WriteConflict:
    """The one line that reports a refused conditional write, naming the object; `no_clobber`: the user asked for
    create-only (else a tree run listed the key as absent and another writer created it since)."""
    url = f"s3://{bucket}/{key}"
    if condition.if_none_match and no_clobber:
        return WriteConflict(f"{url} already exists; --no-clobber left it as it was", hint="choose another key, or leave out --no-clobber to replace it")
    if condition.if_none_match:
        return WriteConflict(f"conflict: {url} was created by another writer after this run listed it as absent; that object "
                             "was left as it was", hint="run again to compare against the object as it is now")  # fmt: skip
    return WriteConflict(f"conflict: {url} was changed by another writer after this run planned to replace it "
                         f"(ETag {condition.if_match} expected); the newer object was left as it was",
                         hint="run again to compare against the object as it is now")  # fmt: skip


def honours_conditions(conn: Connection, bucket: str) -> bool:
    """Whether the endpoint honours If-Match / If-None-Match on PUT; probed once per run (per connection)."""
    declared = conn.objects.features.conditional_writes
    if declared is not None:  # the backend says so (the in-memory one does): nothing to probe
        return declared
    return probed_once(conn, "honours_conditions", lambda: _probe(conn, bucket),
                       ignored="conditional writes (If-None-Match / If-Match): --no-clobber and the create and overwrite "
                               "checks of put -r and sync fall back to a HEAD just before each write, which is not atomic there")  # fmt: skip


def _probe(conn: Connection, bucket: str) -> bool | None:
    """True: the endpoint refused the impossible If-Match; False: it wrote the probe; None: it refused it for
    another reason (a bucket policy, say), which tells nothing (the HEAD check is then the safe side, quietly)."""
    from s3safe.storage.s3 import S3Storage

    key = PROBE_PREFIX + uuid.uuid4().hex
    client = conn.client_for(bucket)
    # interrupted before the answer, there is no time to look for it: the server may have stored it, so it is named
    left = f"the empty probe object s3://{bucket}/{key} may have been stored; if it is there, delete it with: s3safe rm s3://{bucket}/{key}"
    try:
        with loose_end(left), translated("probe conditional writes in", bucket=bucket, key=key):
            # encrypted, as every upload is: a policy that requires it must not refuse the probe for that
            response = client.put_object(Bucket=bucket, Key=key, Body=b"", IfMatch=NO_SUCH_ETAG, ServerSideEncryption="AES256")
    except (ConditionFailed, NotFoundError):
        return True
    except S3SafeError as exc:
        log.info("could not probe conditional writes in s3://%s (%s); checking by HEAD instead", bucket, exc)
        if not isinstance(exc, AccessDeniedError):  # refused outright, it wrote nothing; else its answer may be lost
            sweep_probe(S3Storage(conn), bucket, key)
        return None
    remove_probe(S3Storage(conn).delete_batch, bucket, [(key, response.get("VersionId"))])  # its version only
    return False


def check_by_head(conn: Connection, condition: WriteCondition, *, bucket: str, key: str, no_clobber: bool = True) -> None:
    """The condition checked by a HEAD (not atomic): for endpoints that ignore conditional headers; `no_clobber`
    as for conflict()."""
    from s3safe.storage.s3 import S3Storage

    etag = S3Storage(conn).current_etag(bucket, key)
    if condition.if_none_match and etag is not None:
        raise conflict(condition, bucket=bucket, key=key, no_clobber=no_clobber)
    if condition.if_match is not None and (etag or "").strip('"') != condition.if_match.strip('"'):
        raise conflict(condition, bucket=bucket, key=key)


def prepare(
    conn: Connection, condition: WriteCondition | None, *, bucket: str, key: str, no_clobber: bool = True
) -> WriteCondition | None:
    """The condition to send with the write: itself where the endpoint honours it; else it is checked by HEAD
    now and nothing is sent (`no_clobber`: the user asked for create-only, else a tree run listed the key as
    absent; it words the conflict)."""
    if not condition:
        return None
    if honours_conditions(conn, bucket):
        return condition
    check_by_head(conn, condition, bucket=bucket, key=key, no_clobber=no_clobber)
    return None
