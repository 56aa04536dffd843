"""Every obstore call of s3safe goes through here: one place that retries, times and logs them.

Retries: obstore's stores are made with its own retries off (storage/retries.py), because obstore retries inside
Rust and tells nobody about a retry that ends well: a slow endpoint was minutes of silence at -v. Here each
request is sent at most `--retries`+1 times, after a 5xx or 429 answer or a cut connection (never a 4xx), with
exponential backoff and jitter as obstore's own, each retry one "retrying GET s3://b/k in 0.4 s, attempt 2/6
(503)" line at -v, the sleep cut short by the run's cancel flag. Every request here may be sent again: GET and
LIST read, a PUT body is bytes or a file path (read again from the start). A conditional PUT is sent once here:
storage/s3_upload.py repeats it within --retries (saying so at -v too), because a repeat after a lost answer
can be refused by its own first attempt, which only the transfer can tell. A GET's body cut part-way is asked
for again from the byte it reached (ResumingGet), as obstore's retried stream did.

--debug: each request becomes one line (storage.requestlog): status, bytes, time, retries. With --debug off a
call costs one `isEnabledFor` check more than calling obstore directly. Errors are not translated here; callers
keep their `translated(...)` blocks, which name the action.
"""

from __future__ import annotations

import contextlib
import os
import random
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from s3safe.core import cancel
from s3safe.storage import requestlog
from s3safe.storage.answers import check_object_meta

if TYPE_CHECKING:
    from obstore import GetResult, ObjectMeta, PutResult
    from obstore.store import S3Store

T = TypeVar("T")
FIRST_DELAY = 0.1  # seconds before the first retry (obstore's init_backoff); doubled for each further one
MAX_DELAY = 15.0  # obstore's max_backoff
_ATTEMPTS: dict[int, tuple[weakref.ref[Any], int]] = {}  # id(store) -> (store, attempts); connection registers each


def register(store: S3Store, *, attempts: int) -> None:
    """How many times a request of `store` is sent at most (the first try included). Held weakly: a listing's
    store of its own is forgotten with it."""
    key = id(store)

    def forget(ref: weakref.ref[Any]) -> None:
        if _ATTEMPTS.get(key, (None, 0))[0] is ref:
            _ATTEMPTS.pop(key, None)

    _ATTEMPTS[key] = (weakref.ref(store, forget), max(1, attempts))


def _attempts(store: Any) -> int:
    found = _ATTEMPTS.get(id(store))
    return found[1] if found is not None and found[0]() is store else 1


def backoff(retry: int) -> float:
    """The wait before retry number `retry` (1, 2, …): half of an exponential cap, plus jitter up to the other half."""
    cap = min(MAX_DELAY, FIRST_DELAY * 2.0 ** (retry - 1))
    return cap / 2 + random.uniform(0, cap / 2)  # jitter, not a secret


def _again(exc: BaseException, *, attempt: int, total: int, method: str, bucket: str, key: str | None,
           resume_at: int | None = None) -> float | None:  # fmt: skip
    """The wait before sending the request again after `exc` ended attempt number `attempt`; None: give up.
    `resume_at`: the byte a cut download's body is asked for again from."""
    from s3safe.storage.errors import obstore_transient

    reason = obstore_transient(exc) if attempt < total else None
    if reason is None:
        return None
    delay = backoff(attempt)
    where = requestlog.where(bucket, key) + (f" from byte {resume_at}" if resume_at is not None else "")
    requestlog.retry_log.info("retrying %s %s in %.1f s, attempt %d/%d (%s)", method, where, delay, attempt + 1, total, reason)
    return delay


def _note_retries(exc: BaseException, retries: int) -> None:
    """How often a request that finally failed was sent again, for its --debug line."""
    with contextlib.suppress(AttributeError, TypeError):  # an exception type without a __dict__
        exc.s3safe_retries = retries  # type: ignore[attr-defined]


def _sent(store: Any, send: Callable[[], T], *, method: str, bucket: str, key: str | None, once: bool = False) -> tuple[T, int]:
    """send() until it succeeds or may not be sent again (`once`: never again); (its answer, how many retries)."""
    total, attempt = 1 if once else _attempts(store), 1
    while True:
        try:
            return send(), attempt - 1
        except Exception as exc:
            delay = _again(exc, attempt=attempt, total=total, method=method, bucket=bucket, key=key)
            if delay is None:
                _note_retries(exc, attempt - 1)
                raise
        cancel.sleep(delay)
        attempt += 1


def _payload_size(body: Any) -> int | None:
    if isinstance(body, bytes | bytearray | memoryview):
        return len(body)
    if isinstance(body, Path | str):
        try:
            return os.stat(body).st_size
        except OSError:
            return None
    return None


def _got(method: str, target: str, started: float, result: GetResult, options: dict[str, Any] | None, retries: int) -> None:
    start, stop = result.range
    ranged = options is not None and "range" in options
    requestlog.emit(method, target, status=206 if ranged else 200, sent=None, received=stop - start,
                    seconds=time.monotonic() - started, retries=retries, via="obstore:get")  # fmt: skip


def _failed(method: str, target: str, started: float, exc: BaseException, via: str) -> None:
    status, _ = requestlog.failure(exc)
    retries = getattr(exc, "s3safe_retries", "?")
    requestlog.emit(method, target, status=status, sent=None, received=None, seconds=time.monotonic() - started,
                    retries=retries, via=via)  # fmt: skip


def get(store: S3Store, key: str, *, bucket: str, options: dict[str, Any] | None = None) -> ResumingGet:
    """obstore.get, retried; logged when the answer's headers arrive (the body streams after, resumed if cut)."""
    import obstore

    def send() -> GetResult:
        requestlog.counted()  # each attempt, as botocore's before-send hook counts
        return obstore.get(store, key, options=options)

    if not requestlog.enabled():
        result = _sent(store, send, method="GET", bucket=bucket, key=key)[0]
        check_object_meta(result.meta, method="GET")
        return ResumingGet(result, store=store, key=key, bucket=bucket, options=options)
    target, started = requestlog.where(bucket, key), time.monotonic()
    try:
        result, retries = _sent(store, send, method="GET", bucket=bucket, key=key)
    except BaseException as exc:
        _failed("GET", target, started, exc, "obstore:get")
        raise
    _got("GET", target, started, result, options, retries)
    check_object_meta(result.meta, method="GET")
    return ResumingGet(result, store=store, key=key, bucket=bucket, options=options)


class ResumingGet:
    """obstore's GetResult whose body, when the connection is cut part-way, is asked for again from the byte it
    reached: a Range to the end of what was asked, If-Match on the ETag just read (so the rest comes from the same
    object, or a 412 fails the download), the version kept. obstore did this inside its stream (object_store 0.12
    retries a streaming GET so) until its own retries were turned off for ours; a server that drops a connection
    whose body waits unread (LocalStack, while the download HEADs for the parts' checksums) needs it. Each resume is
    one attempt of the same --retries bound, a -v line, and a --debug request line."""

    def __init__(self, result: GetResult, *, store: S3Store, key: str, bucket: str, options: dict[str, Any] | None) -> None:
        self._first, self._store, self._key, self._bucket, self._options = result, store, key, bucket, options

    @property
    def attributes(self) -> Any:
        return self._first.attributes

    @property
    def meta(self) -> Any:
        return self._first.meta

    @property
    def range(self) -> tuple[int, int]:
        start, stop = self._first.range
        return int(start), int(stop)

    def stream(self, *, min_chunk_size: int) -> Iterator[Any]:
        at, stop = self._first.range
        etag = self._first.meta.get("e_tag")
        total, attempt = _attempts(self._store), 1
        body: GetResult | None = self._first
        while True:
            try:
                if body is None:
                    body = self._rest(at, stop, etag=etag or "", retries=attempt - 1)
                for chunk in body.stream(min_chunk_size=min_chunk_size):
                    at += len(chunk)
                    yield chunk
                return
            except Exception as exc:
                if at >= stop:  # every byte promised arrived, only the answer's end was lost: the caller verifies them
                    return
                delay = _again(exc, attempt=attempt, total=total, method="GET", bucket=self._bucket, key=self._key,
                               resume_at=at) if etag else None  # fmt: skip
                if delay is None:
                    _note_retries(exc, attempt - 1)
                    raise
            body = None
            cancel.sleep(delay)
            attempt += 1

    def _rest(self, start: int, stop: int, *, etag: str, retries: int) -> GetResult:
        """Bytes [start, stop) of the version read first: one GET."""
        import obstore

        from s3safe.core.errors import ServiceError

        options = {**(self._options or {}), "range": (start, stop), "if_match": etag}
        target, started = requestlog.where(self._bucket, self._key), time.monotonic()
        requestlog.counted()
        try:
            result = obstore.get(self._store, self._key, options=options)
        except BaseException as exc:
            if requestlog.enabled():
                _failed("GET", target, started, exc, "obstore:get")
            raise
        if requestlog.enabled():
            _got("GET", target, started, result, options, retries)
        if tuple(result.range) != (start, stop):
            raise ServiceError(f"cannot download {target}: asked for the rest of a cut download (bytes {start}-{stop - 1}), the "
                               f"server answered bytes {result.range[0]}-{result.range[1] - 1}; nothing partial was kept",
                               hint="run the command again")  # fmt: skip
        return result


def head(store: S3Store, key: str, *, bucket: str) -> ObjectMeta:
    """obstore.head, retried: the object's size and ETag, without botocore's per-request cost (a 404 through
    botocore builds and parses a ClientError: ~1 ms CPU, more than a small PUT)."""
    import obstore

    def send() -> ObjectMeta:
        requestlog.counted()  # each attempt, as botocore's before-send hook counts
        return obstore.head(store, key)

    if not requestlog.enabled():
        meta = _sent(store, send, method="HEAD", bucket=bucket, key=key)[0]
        check_object_meta(meta, method="HEAD")
        return meta
    target, started = requestlog.where(bucket, key), time.monotonic()
    try:
        meta, retries = _sent(store, send, method="HEAD", bucket=bucket, key=key)
    except BaseException as exc:
        _failed("HEAD", target, started, exc, "obstore:head")
        raise
    requestlog.emit("HEAD", target, status=200, sent=None, received=None, seconds=time.monotonic() - started,
                    retries=retries, via="obstore:head")  # fmt: skip
    check_object_meta(meta, method="HEAD")
    return meta


def put(store: S3Store, key: str, body: Any, *, bucket: str, attributes: dict[str, str], mode: Any = None) -> PutResult:
    """One PutObject, retried (never multipart: a multipart upload is the chunk writer's, through botocore); `mode`:
    obstore's PutMode ("create": If-None-Match: *, {"e_tag": …}: If-Match), None for an unconditional PUT."""
    import obstore

    def send() -> PutResult:
        requestlog.counted()  # each attempt, as botocore's before-send hook counts
        return obstore.put(store, key, body, attributes=attributes, use_multipart=False, mode=mode)

    conditional = mode is not None  # retried by storage.s3_upload, which tells a repeat refused by its own write
    if not requestlog.enabled():
        return _sent(store, send, method="PUT", bucket=bucket, key=key, once=conditional)[0]
    target, started = requestlog.where(bucket, key), time.monotonic()
    try:
        result, retries = _sent(store, send, method="PUT", bucket=bucket, key=key, once=conditional)
    except BaseException as exc:
        _failed("PUT", target, started, exc, "obstore:put")
        raise
    requestlog.emit("PUT", target, status=200, sent=_payload_size(body), received=None,
                    seconds=time.monotonic() - started, retries=retries, via="obstore:put")  # fmt: skip
    return result


def list_objects(store: S3Store, *, bucket: str, prefix: str | None, chunk_size: int,
                 offset: str | None = None) -> Iterator[Sequence[ObjectMeta]]:  # fmt: skip
    """obstore.list, batch by batch, of the keys after `offset` (all when None); a failed page is asked for again from the last key seen (S3's StartAfter),
    as any request here is retried. obstore pages inside Rust: with --debug, one line for the whole listing
    (objects seen, retries, time), written when the caller is done with it."""
    state = {"seen": 0, "retries": 0}
    if not requestlog.enabled():
        yield from _listed(store, bucket=bucket, prefix=prefix, chunk_size=chunk_size, offset=offset, state=state)
        return
    target, started = requestlog.where(bucket, prefix), time.monotonic()
    note = "complete"
    try:
        yield from _listed(store, bucket=bucket, prefix=prefix, chunk_size=chunk_size, offset=offset, state=state)
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
                            retries=state["retries"], via="obstore:list", note=f"objects={state['seen']} ({note})")  # fmt: skip


def _listed(store: S3Store, *, bucket: str, prefix: str | None, chunk_size: int, offset: str | None,
            state: dict[str, int]) -> Iterator[Sequence[ObjectMeta]]:  # fmt: skip
    import obstore

    total, attempt, last = _attempts(store), 1, offset
    pages = iter(obstore.list(store, prefix=prefix, offset=offset, chunk_size=chunk_size))
    while True:
        try:
            batch = next(pages)
        except StopIteration:
            return
        except Exception as exc:
            delay = _again(exc, attempt=attempt, total=total, method="LIST", bucket=bucket, key=prefix)
            if delay is None:
                _note_retries(exc, attempt - 1)
                raise
            cancel.sleep(delay)
            attempt += 1
            state["retries"] += 1
            pages = iter(obstore.list(store, prefix=prefix, offset=last, chunk_size=chunk_size))
            continue
        if batch:
            last = batch[-1]["path"]
        state["seen"] += len(batch)
        yield batch
