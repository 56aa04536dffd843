"""--debug request lines: one line per request through the storage seam, botocore's and obstore's alike.

    PUT s3://bucket/key status=200 sent=4096 received=0 time=3.1ms retries=0 via=obstore:put

A line carries the method, the object, the HTTP status, the payload bytes each way, the time until the
answer (a streamed body is read after it), the retries and which client sent it. It never carries headers
or query strings, so no signature, token or SSE-C key can reach it (and the log handler redacts anyway).

Off (the default), the cost is one `isEnabledFor` check per request. obstore's requests are retried by
storage/dataplane.py, which counts them.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

log = logging.getLogger("s3safe.request")
retry_log = logging.getLogger("s3safe.retry")

_STATUS = re.compile(r"non-2xx status code: (\d{3})")
_RETRIES = re.compile(r"after (\d+) retries")


def enabled() -> bool:
    return log.isEnabledFor(logging.DEBUG)


def where(bucket: str | None, key: str | None) -> str:
    return f"s3://{bucket or ''}/{key or ''}" if bucket else "(no bucket)"


def emit(
    method: str, target: str, *, status: int | str, sent: int | None, received: int | None, seconds: float,
    retries: int | str, via: str, note: str = "",
) -> None:  # fmt: skip
    log.debug(
        "%s %s status=%s sent=%s received=%s time=%.1fms retries=%s via=%s%s",
        method, target, status, "-" if sent is None else sent, "-" if received is None else received,
        seconds * 1000, retries, via, f" {note}" if note else "",
    )  # fmt: skip


def failure(exc: BaseException) -> tuple[str, str]:
    """(status, retries) for a failed obstore request, read from its text: obstore's exceptions carry no fields."""
    text = str(exc)
    status = _STATUS.search(text)
    retries = _RETRIES.search(text)
    shown = status.group(1) if status else ("404" if isinstance(exc, FileNotFoundError) else f"failed:{type(exc).__name__}")
    return shown, retries.group(1) if retries else ("0" if status else "?")


# --- counting: what one piece of work (a change-detection comparison) cost in requests ----------------------
# Every request through the seam is counted on the thread that sends it (botocore sends on the caller's
# thread, each attempt through before-send; obstore's synchronous calls block it), so a caller that opens a
# tally on its thread sees exactly the requests its work made, whichever helper made them.
_tallies = threading.local()


class Tally:
    def __init__(self) -> None:
        self.count = 0


@contextmanager
def tally() -> Iterator[Tally]:
    """Count the requests this thread sends inside the block (a tally opened inside another adds to it too)."""
    outer: Tally | None = getattr(_tallies, "current", None)
    inner = _tallies.current = Tally()
    try:
        yield inner
    finally:
        _tallies.current = outer
        if outer is not None:
            outer.count += inner.count


def counted(*_: Any, **__: Any) -> None:
    """One request sent (botocore's before-send hook, and each obstore call of storage.dataplane)."""
    current: Tally | None = getattr(_tallies, "current", None)
    if current is not None:
        current.count += 1


# --- botocore: event hooks on each client (storage.connection registers them) --------------------------

_CONTEXT_KEY = "s3safe_request"


def _started(params: dict[str, Any], context: dict[str, Any], model: Any = None, **_: Any) -> None:
    if enabled() or retry_log.isEnabledFor(logging.INFO):
        # the method and operation are kept for a failure line: a request without an answer has no model at hand
        method, name = (model.http.get("method", "?"), model.name) if model is not None else ("?", None)
        context[_CONTEXT_KEY] = (params.get("Bucket"), params.get("Key"), time.monotonic(), _body_size(params.get("Body")),
                                 method, name)  # fmt: skip


def _retries(context: dict[str, Any], parsed: dict[str, Any] | None) -> int | str:
    if parsed is not None:
        attempts = parsed.get("ResponseMetadata", {}).get("RetryAttempts")
        if isinstance(attempts, int):
            return attempts
    attempt = (context.get("retries") or {}).get("attempt")
    return attempt - 1 if isinstance(attempt, int) and attempt > 0 else "?"


def _answered(http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
    begun = context.get(_CONTEXT_KEY)
    if begun is None or not enabled():
        return
    bucket, key, started, sent = begun[:4]
    method = model.http.get("method", "?")
    code = parsed.get("Error", {}).get("Code") if http_response.status_code >= 300 else None
    emit(method, where(bucket, key), status=http_response.status_code, sent=sent, received=_received(http_response, model),
         seconds=time.monotonic() - started, retries=_retries(context, parsed), via=f"botocore:{model.name}",
         note=f"code={code}" if code else "")  # fmt: skip


def _received(http_response: Any, model: Any) -> int | None:
    """Body bytes of the answer: a HEAD's Content-Length describes the object, not what was received."""
    if model.http.get("method") == "HEAD":
        return 0
    length = str(getattr(http_response, "headers", {}).get("content-length", ""))
    if length.isdigit():
        return int(length)
    if not model.has_streaming_output:  # already read in full: counting it reads nothing more
        return len(http_response.content or b"")
    return None


def _failed(exception: BaseException, context: dict[str, Any], **_: Any) -> None:
    begun = context.get(_CONTEXT_KEY)
    if begun is None or not enabled():
        return
    bucket, key, started, sent, method, name = begun
    emit(method, where(bucket, key), status=f"failed:{type(exception).__name__}", sent=sent, received=None,
         seconds=time.monotonic() - started, retries=_retries(context, None), via=f"botocore:{name}" if name else "botocore")  # fmt: skip


def _body_size(body: Any) -> int | None:
    if body is None:
        return None
    if isinstance(body, bytes | bytearray | memoryview):
        return len(body)
    if isinstance(body, str):
        return len(body.encode("utf-8"))
    try:
        return len(body)
    except TypeError:
        pass
    try:  # a file: what is left to read from where it stands
        here = body.tell()
        end = body.seek(0, 2)
        body.seek(here)
        return int(end - here)
    except (AttributeError, OSError, ValueError):
        return None


# --- retries at -v: "retrying PUT s3://b/k in 0.4 s, attempt 2/6 (503 SlowDown)" -----------------------------
# botocore decides and sleeps inside its own needs-retry handler and says so only in a debug record of its
# retry module. Our handler runs just before it on the same thread and leaves the request's description in a
# thread-local; a handler on that module's logger turns botocore's record into one line of ours.

_RETRY_MODULE = "botocore.retries.standard"
_DELAY = re.compile(r"retrying request after delay of: ([0-9.]+)")
_pending = threading.local()


def _retry_pending(request_dict: dict[str, Any], operation: Any, attempts: int, response: Any = None,
                   caught_exception: BaseException | None = None, **_: Any) -> None:  # fmt: skip
    if not retry_log.isEnabledFor(logging.INFO):
        return
    context = request_dict.get("context") or {}
    bucket, key = (context.get(_CONTEXT_KEY) or (None, None))[:2]
    if caught_exception is not None:
        reason = type(caught_exception).__name__
    elif response is not None:
        http, parsed = response
        code = str((parsed or {}).get("Error", {}).get("Code", ""))
        reason = f"{http.status_code} {code}" if code and code != str(http.status_code) else str(http.status_code)
    else:
        reason = "?"
    total = (context.get("retries") or {}).get("max")
    _pending.what = (operation.http.get("method", "?"), where(bucket, key), attempts, total, reason)


class _RetryLines(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        found = _DELAY.search(record.getMessage())
        what = getattr(_pending, "what", None)
        if found is None or what is None:
            return
        method, target, attempts, total, reason = what
        retry_log.info("retrying %s %s in %.1f s, attempt %d/%s (%s)", method, target, float(found.group(1)),
                       attempts + 1, total or "?", reason)  # fmt: skip


def show_retries(*, on: bool) -> None:
    """At -v: one line per botocore retry, through the s3safe.retry logger (obstore retries inside its own
    client and does not say so until a request finally fails)."""
    module = logging.getLogger(_RETRY_MODULE)
    module.handlers[:] = [h for h in module.handlers if not isinstance(h, _RetryLines)]
    module.setLevel(logging.NOTSET)  # exec and shell set this up again for every command
    module.propagate = True
    if on:
        module.addHandler(_RetryLines())
        if module.getEffectiveLevel() > logging.DEBUG:  # without --debug its raw records go to us alone
            module.setLevel(logging.DEBUG)
            module.propagate = False


def register(client: Any, *, service: str = "s3") -> None:
    """Log every request of a botocore client (S3, or `service` as botocore's events name it: cloudtrail,
    s3-control …); the hooks return at once while --debug and -v are off."""
    events = client.meta.events
    events.register_first(f"needs-retry.{service}", _retry_pending)
    events.register(f"before-parameter-build.{service}", _started)
    events.register(f"before-send.{service}", counted)
    events.register(f"after-call.{service}", _answered)
    events.register(f"after-call-error.{service}", _failed)
