"""S3 writes: one PUT (obstore, or botocore where obstore cannot) and the multipart chunk writer (botocore).

obstore is the fast path for single-request uploads. botocore takes the ones obstore cannot express: a throttled
body (--max-bandwidth), keys obstore would refuse or rewrite (h/./dot, a//b), and multipart uploads that must be
resumable across processes (obstore's own multipart hides the upload ID). Checksums are sent as plain headers:
the aws-chunked trailers botocore would otherwise use are rejected by several S3-compatible servers.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s3safe.core import cancel, progress
from s3safe.core.bandwidth import pay
from s3safe.core.errors import ConditionFailed, NotFoundError, S3SafeError, ServiceError
from s3safe.storage import dataplane, requestlog
from s3safe.storage.base import CRC64NVME, SHA256, Body, Part, PutRequest, WriteCondition, Written
from s3safe.storage.compat import via_obstore
from s3safe.storage.errors import translated
from s3safe.storage.listing_guard import PartGuard, UploadGuard, checked_pages
from s3safe.storage.retries import attempts

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from s3safe.storage.clients import Clients

log = logging.getLogger("s3safe.s3")


def _etag(response: Any) -> str | None:
    return (response.get("ETag") or response.get("e_tag") or "").strip('"') or None


def _part_checksums(part: Part) -> dict[str, str]:
    sums = {"ChecksumCRC64NVME": part.crc64nvme_b64, "ChecksumSHA256": part.sha256_b64}
    return {name: value for name, value in sums.items() if value}


def put_object(conn: Clients, request: PutRequest, body: Body, *, sha256_b64: str) -> Written:
    """One PutObject carrying x-amz-checksum-sha256: its ETag, and whether the answer showed the checksum checked
    (obstore's answer carries no headers but the ETag: there it cannot tell)."""
    if conn.limiter is None and via_obstore(conn, request.key) and not request.object_lock:
        return Written(_put_obstore(conn, request, body))
    return _put_botocore(conn, request, body, sha256_b64=sha256_b64)


def _put_obstore(conn: Clients, request: PutRequest, body: Body) -> str | None:
    # obstore has no per-request ACL or SSE: the store is made for this combination (and cached)
    store = conn.store(request.bucket, sse=request.sse, kms_key_id=request.sse_kms_key_id, acl=request.acl)
    attributes: dict[str, str] = {"Content-Type": request.content_type or "application/octet-stream", **request.metadata}
    if request.cache_control:
        attributes["Cache-Control"] = request.cache_control
    if request.storage_class:
        attributes["Storage-Class"] = request.storage_class
    mode = request.condition.obstore_mode() if request.condition else None
    # dataplane retries a plain PUT by itself but never a conditional one (its repeat after a lost answer could be
    # refused by the write it repeats): those are retried here, and a repeat refused with 412 because the first
    # attempt had landed is told apart by the caller (transfer.pipeline.landed_already)
    tries = attempts(conn.settings) if mode is not None else 1
    for attempt in range(1, tries + 1):
        try:
            with conn.budget.request(), translated("upload to", bucket=request.bucket, key=request.key):
                result = dataplane.put(store, request.key, body, bucket=request.bucket, attributes=attributes, mode=mode)
            return _etag(result)
        except ServiceError as exc:
            if attempt == tries or not _retryable(exc):
                raise
            delay = min(0.1 * 2 ** (attempt - 1), 5.0)
            # at -v, as every other retry (dataplane's, botocore's)
            requestlog.retry_log.info("retrying PUT s3://%s/%s in %.1f s, attempt %d/%d (%s)", request.bucket, request.key,
                                      delay, attempt + 1, tries, exc.http_status or "connection cut")  # fmt: skip
            cancel.sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _retryable(exc: ServiceError) -> bool:
    """No answer (a cut connection, a timeout), a 5xx or 429: what obstore would retry on an unconditional PUT."""
    status = exc.http_status
    return status is None or status >= 500 or status == 429


def _put_botocore(conn: Clients, request: PutRequest, body: Body, *, sha256_b64: str) -> Written:
    from s3safe.core.bandwidth import ThrottledFile

    client = conn.client_for(request.bucket)
    extra = {**request.extra(), **(request.condition.boto_args() if request.condition else {})}
    if request.object_lock:  # S3 wants a checksum it is told the name of on a write it must retain
        extra["ChecksumAlgorithm"] = "SHA256"
    with translated("upload to", bucket=request.bucket, key=request.key):
        if isinstance(body, Path):
            with ThrottledFile(body, conn.limiter) as handle:
                response = client.put_object(Bucket=request.bucket, Key=request.key, Body=handle, ChecksumSHA256=sha256_b64, **extra)
        else:
            pay(conn.limiter, len(body))  # a body sent without a limiter is counted when its file finishes
            response = client.put_object(Bucket=request.bucket, Key=request.key, Body=bytes(body), ChecksumSHA256=sha256_b64, **extra)
    # a server that checks the checksum answers with it (AWS, LocalStack); one that ignores it says nothing (moto, rclone)
    return Written(_etag(response), checksum_checked=response.get("ChecksumSHA256") == sha256_b64)


class S3ChunkWriter:
    """The multipart upload of one key through botocore; the caller keeps the upload ID (a journal) to resume."""

    def __init__(self, conn: Clients, bucket: str, key: str) -> None:
        self.conn = conn
        self.bucket = bucket
        self.key = key

    @property
    def client(self) -> S3Client:
        return self.conn.client_for(self.bucket)  # cached by the connection; built only when a request is made

    def create(self, request: PutRequest, *, checksum: str = SHA256) -> str:
        # CRC64NVME is a full-object checksum on S3 (the parts' values combine into the whole object's)
        kind: dict[str, Any] = {"ChecksumType": "FULL_OBJECT"} if checksum == CRC64NVME else {}
        with translated("start a multipart upload to", bucket=self.bucket, key=self.key):
            response = self.client.create_multipart_upload(Bucket=self.bucket, Key=self.key, ChecksumAlgorithm=checksum.upper(),  # type: ignore[arg-type]
                                                           **kind, **request.extra())  # fmt: skip
        return str(response["UploadId"])

    def write_part(self, upload_id: str, number: int, data: bytes, *, sha256_b64: str | None = None,
                   crc64nvme_b64: str | None = None) -> Part:  # fmt: skip
        # the checksum header is signed: with it the body goes UNSIGNED-PAYLOAD (connection.py), hashed once, natively
        header = {"ChecksumCRC64NVME": crc64nvme_b64} if crc64nvme_b64 else {"ChecksumSHA256": sha256_b64}
        paid = pay(self.conn.limiter, len(data))
        with translated("upload a part to", bucket=self.bucket, key=self.key):
            r = self.client.upload_part(Bucket=self.bucket, Key=self.key, UploadId=upload_id, PartNumber=number, Body=data,
                                        **header)  # fmt: skip
        if not paid:
            progress.moved(len(data))
        ((name, sent),) = header.items()
        # a server that checks the checksum answers with it (AWS, LocalStack); one that ignores it says nothing
        return Part(number, r["ETag"], sha256_b64, len(data), crc64nvme_b64=crc64nvme_b64, verified=r.get(name) == sent)

    def complete(self, upload_id: str, parts: Sequence[Part], *, condition: WriteCondition | None = None,
                 crc64nvme_b64: str | None = None) -> str | None:  # fmt: skip
        listed = [{"PartNumber": p.number, "ETag": p.etag, **_part_checksums(p)} for p in parts]
        whole: dict[str, Any] = {"ChecksumCRC64NVME": crc64nvme_b64, "ChecksumType": "FULL_OBJECT"} if crc64nvme_b64 else {}
        if condition is not None and condition.if_match is not None:
            # some servers ignore If-Match on the completion while honouring it on PUT (moto): checked by HEAD too
            self._check_by_head(condition)
        with translated("complete the multipart upload to", bucket=self.bucket, key=self.key):
            result = self.client.complete_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=upload_id,
                                                           MultipartUpload={"Parts": listed},  # type: ignore[typeddict-item]
                                                           **whole, **(condition.boto_args() if condition else {}))  # fmt: skip
        return _etag(result)

    def _check_by_head(self, condition: WriteCondition) -> None:
        try:
            with translated("read metadata of", bucket=self.bucket, key=self.key):
                etag: str | None = _etag(self.client.head_object(Bucket=self.bucket, Key=self.key))
        except NotFoundError:
            etag = None
        if not condition.holds(etag):
            raise ConditionFailed(f"cannot complete the multipart upload to s3://{self.bucket}/{self.key}: the object is no "
                                  "longer as the request's condition required")  # fmt: skip

    def abort(self, upload_id: str) -> None:
        try:
            with translated("abort the multipart upload of", bucket=self.bucket, key=self.key):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=self.key, UploadId=upload_id)
        except NotFoundError:
            pass  # completed or aborted already: nothing is left to bill

    def _server(self) -> str:
        return self.conn.settings.endpoint_url or "AWS S3"

    def list_parts(self, upload_id: str) -> dict[int, Part] | None:
        """The parts the server holds for `upload_id` (None: the upload is gone), checked as they stream:
        numbers strictly increasing within 1..10,000, pages that advance (storage.listing_guard)."""
        listed: dict[int, Part] = {}
        order = PartGuard(f"parts of s3://{self.bucket}/{self.key}?uploadId={upload_id} from {self._server()}",
                          hint="the upload was not resumed; S3 lists each part once, in ascending order: "
                               "report this to the server's maintainers")  # fmt: skip
        try:
            with translated("list parts of", bucket=self.bucket, key=self.key):
                pages = self.client.get_paginator("list_parts").paginate(Bucket=self.bucket, Key=self.key, UploadId=upload_id)
                for page in checked_pages(pages, order.pages, tokens=("NextPartNumberMarker",), listed=("Parts",)):
                    for item in page.get("Parts", []):
                        number = order.part(item.get("PartNumber"))
                        listed[number] = Part(number, item.get("ETag", ""), item.get("ChecksumSHA256"), item.get("Size"),
                                              crc64nvme_b64=item.get("ChecksumCRC64NVME"))  # fmt: skip
        except NotFoundError:
            return None
        return listed

    def open_uploads(self, *, since: datetime | None = None) -> set[str] | None:
        order = UploadGuard(f"multipart uploads of s3://{self.bucket}/{self.key} from {self._server()}", base=f"s3://{self.bucket}/")
        found: set[str] = set()
        try:
            with translated("list the multipart uploads of", bucket=self.bucket, key=self.key):
                pages = self.client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket, Prefix=self.key)
                for page in checked_pages(pages, order.pages, tokens=("NextKeyMarker", "NextUploadIdMarker"), listed=("Uploads",)):
                    for upload in page.get("Uploads", []):
                        key, upload_id = upload.get("Key", ""), upload.get("UploadId")
                        if upload_id:
                            order.upload(key, upload_id)
                        if key == self.key and upload_id and (since is None or upload.get("Initiated", since) >= since):
                            found.add(upload_id)
            return found
        except S3SafeError as exc:
            log.info("could not list the multipart uploads of s3://%s/%s (%s)", self.bucket, self.key, exc)
            return None
