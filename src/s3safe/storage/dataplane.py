"""Every obstore call of s3safe goes through here: one place that times and logs them for --debug.

With --debug off a call costs one `isEnabledFor` check more than calling obstore directly. With it on,
each request becomes one line (storage.requestlog): status, bytes, time, retries. Errors are not
translated here; callers keep their `translated(...)` blocks, which name the action.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s3safe.storage import requestlog

if TYPE_CHECKING:
    from obstore import GetResult, ObjectMeta, PutResult
    from obstore.store import S3Store


def _payload_size(body: Any) -> int | None:
    if isinstance(body, bytes | bytearray | memoryview):
        return len(body)
    if isinstance(body, Path | str):
        try:
            return os.stat(body).st_size
        except OSError:
            return None
    return None


def _got(method: str, target: str, started: float, result: GetResult, options: dict[str, Any] | None) -> None:
    start, stop = result.range
    ranged = options is not None and "range" in options
    requestlog.emit(method, target, status=206 if ranged else 200, sent=None, received=stop - start,
                    seconds=time.monotonic() - started, retries="?", via="obstore:get")  # fmt: skip


def _failed(method: str, target: str, started: float, exc: BaseException, via: str) -> None:
    status, retries = requestlog.failure(exc)
    requestlog.emit(method, target, status=status, sent=None, received=None, seconds=time.monotonic() - started,
                    retries=retries, via=via)  # fmt: skip


def get(store: S3Store, key: str, *, bucket: str, options: dict[str, Any] | None = None) -> GetResult:
    """obstore.get; logged when the answer's headers arrive (the body streams after)."""
    import obstore

    requestlog.counted()
    if not requestlog.enabled():
        return obstore.get(store, key, options=options)
    target, started = requestlog.where(bucket, key), time.monotonic()
    try:
        result = obstore.get(store, key, options=options)
    except BaseException as exc:
        _failed("GET", target, started, exc, "obstore:get")
        raise
    _got("GET", target, started, result, options)
    return result


async def get_async(store: S3Store, key: str, *, bucket: str, options: dict[str, Any] | None = None) -> GetResult:
    import obstore

    if not requestlog.enabled():
        return await obstore.get_async(store, key, options=options)
    target, started = requestlog.where(bucket, key), time.monotonic()
    try:
        result = await obstore.get_async(store, key, options=options)
    except BaseException as exc:
        _failed("GET", target, started, exc, "obstore:get")
        raise
    _got("GET", target, started, result, options)
    return result


def head(store: S3Store, key: str, *, bucket: str) -> ObjectMeta:
    """obstore.head: the object's size and ETag, without botocore's per-request cost (a 404 through botocore
    builds and parses a ClientError: ~1 ms CPU, more than a small PUT)."""
    import obstore

    requestlog.counted()
    if not requestlog.enabled():
        return obstore.head(store, key)
    target, started = requestlog.where(bucket, key), time.monotonic()
    try:
        meta = obstore.head(store, key)
    except BaseException as exc:
        _failed("HEAD", target, started, exc, "obstore:head")
        raise
    requestlog.emit("HEAD", target, status=200, sent=None, received=None, seconds=time.monotonic() - started,
                    retries="?", via="obstore:head")  # fmt: skip
    return meta


def put(store: S3Store, key: str, body: Any, *, bucket: str, attributes: dict[str, str], mode: Any = None) -> PutResult:
    """One PutObject (never multipart: a multipart upload is the chunk writer's, through botocore); `mode`:
    obstore's PutMode ("create": If-None-Match: *, {"e_tag": …}: If-Match), None for an unconditional PUT."""
    import obstore

    requestlog.counted()
    if not requestlog.enabled():
        return obstore.put(store, key, body, attributes=attributes, use_multipart=False, mode=mode)
    target, started = requestlog.where(bucket, key), time.monotonic()
    try:
        result = obstore.put(store, key, body, attributes=attributes, use_multipart=False, mode=mode)
    except BaseException as exc:
        _failed("PUT", target, started, exc, "obstore:put")
        raise
    requestlog.emit("PUT", target, status=200, sent=_payload_size(body), received=None,
                    seconds=time.monotonic() - started, retries="?", via="obstore:put")  # fmt: skip
    return result


async def put_async(store: S3Store, key: str, body: Any, *, bucket: str, attributes: dict[str, str]) -> PutResult:
    import obstore

    if not requestlog.enabled():
        return await obstore.put_async(store, key, body, attributes=attributes, use_multipart=False)
    target, started = requestlog.where(bucket, key), time.monotonic()
    try:
        result = await obstore.put_async(store, key, body, attributes=attributes, use_multipart=False)
    except BaseException as exc:
        _failed("PUT", target, started, exc, "obstore:put")
        raise
    requestlog.emit("PUT", target, status=200, sent=_payload_size(body), received=None,
                    seconds=time.monotonic() - started, retries="?", via="obstore:put")  # fmt: skip
    return result


def list_objects(store: S3Store, *, bucket: str, prefix: str | None, chunk_size: int) -> Iterator[Sequence[ObjectMeta]]:
    """obstore.list, batch by batch. obstore pages inside Rust: with --debug, one line for the whole
    listing (objects seen, time), written when the caller is done with it."""
    import obstore

    batches = obstore.list(store, prefix=prefix, chunk_size=chunk_size)
    if not requestlog.enabled():
        yield from batches
        return
    target, started, seen = requestlog.where(bucket, prefix), time.monotonic(), 0
    note = "complete"
    try:
        for batch in batches:
            seen += len(batch)
            yield batch
    except GeneratorExit:  # the caller stopped reading (a folder marker hands the rest to botocore)
        note = "left early by the caller"
        raise
    except BaseException as exc:
        note = ""
        _failed("LIST", target, started, exc, "obstore:list")
        raise
    finally:
        if note:
            requestlog.emit("LIST", target, status=200, sent=None, received=None, seconds=time.monotonic() - started,
                            retries="?", via="obstore:list", note=f"objects={seen} ({note})")  # fmt: skip
