"""Turns boto3/botocore and obstore exceptions into the library's own errors, in one place."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from s3safe.core.errors import (
    AccessDeniedError,
    ConditionFailed,
    IntegrityError,
    NotFoundError,
    NotS3Error,
    S3SafeError,
    ServiceError,
    UsageError,
)
from s3safe.core.redact import redact
from s3safe.storage import answers

log = logging.getLogger("s3safe.storage")

_CREDENTIAL_CODES = {
    "InvalidAccessKeyId": "the access key ID is not known to the server",
    "SignatureDoesNotMatch": "the secret access key does not match the access key ID",
    "ExpiredToken": "the session token has expired",
    "InvalidToken": "the session token is invalid",
    "TokenRefreshRequired": "the session token must be refreshed",
    "RequestTimeTooSkewed": "the system clock differs too much from the server's",
    "AuthorizationHeaderMalformed": "the request's credential scope (often the region) is wrong",
}
_CREDENTIAL_HINT = "check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, --profile, or run 'aws configure'"
_NOT_FOUND_CODES = {"NoSuchBucket", "NoSuchKey", "NoSuchUpload", "NoSuchVersion", "404", "NotFound"}
_INTEGRITY_CODES = {"BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch", "InvalidChecksum"}
_USAGE_CODES = {
    "InvalidBucketName", "InvalidArgument", "InvalidRequest", "MalformedXML", "KeyTooLongError",
    "InvalidStorageClass", "MetadataTooLarge", "InvalidObjectState", "EntityTooLarge", "EntityTooSmall",
    "InvalidRange", "BucketAlreadyExists", "BucketAlreadyOwnedByYou", "BucketNotEmpty",
    "IllegalLocationConstraintException", "InvalidLocationConstraint", "AccessControlListNotSupported",
}  # fmt: skip


class AclsDisabledError(UsageError):
    """The bucket refuses ACL headers because Object Ownership is BucketOwnerEnforced."""


class BucketNotEmptyError(UsageError):
    """DeleteBucket refused: the bucket still holds objects (or versions, or delete markers)."""


class UnsupportedError(ServiceError):
    """The endpoint does not implement this request (an S3-compatible store without that sub-resource)."""


class RangeIgnored(ServiceError):
    """A ranged GET was answered with the whole object (rclone serve s3 does): the caller streams it instead."""


UNSUPPORTED = "not supported by this endpoint"


# set by the connection's botocore hook on an error answer to a request that carried an SSE-C key
SSE_C_SENT = "S3SafeSseCKeySent"
_SSE_C_HINT = "pass the key the object was written with: --sse-c-key-file FILE"


@dataclass(frozen=True, slots=True)
class Fault:
    """What a failed request said, read from its structure only: the HTTP status, the service's error code
    (the <Code> of S3's error document), the request's method or operation, whether it carried an SSE-C key.
    The message is kept to show the user; no decision is taken on its text."""

    status: int | None
    code: str
    message: str = ""
    operation: str = ""  # botocore's operation name (GetObject) or the HTTP method obstore names (GET)
    sse_c_sent: bool = False
    location: str = ""  # a redirect's Location header, when known
    not_s3: str = ""  # what the body was when it should have been S3 XML (storage.answers): "text/html"

    @property
    def reads(self) -> bool:
        return self.operation in _READ_OPERATIONS


_READ_OPERATIONS = {"GET", "HEAD", "GetObject", "HeadObject", "GetObjectAttributes"}


def _sse_c_error(fault: Fault, *, action: str, where: str) -> S3SafeError | None:
    """A refusal SSE-C explains, as one line that names the key, or None. S3 has no error code of its own for
    these: a wrong key is a bare 403 (HEAD) or AccessDenied, a key the object does not take a 400, a missing
    one a bare 400 (HEAD) or InvalidRequest (GET)."""
    if not where.count("/") > 2:  # object requests only: s3://bucket/key
        return None
    status, code, sent = fault.status, fault.code, fault.sse_c_sent
    # botocore names a body-less answer by its status
    bare_400 = status == 400 and code in ("", "400", "BadRequest") and not fault.not_s3
    if sent and (status == 403 or (status is None and code in ("AccessDenied", "403", "Forbidden"))):
        return AccessDeniedError(
            f"access denied: cannot {action} {where}: the SSE-C key may be wrong (S3 refuses a key other than the one the object was written with)",
            hint="check that --sse-c-key-file names that object's SSE-C key; else check the bucket policy and your IAM permissions",
        )
    if sent and (bare_400 or (status == 400 and code == "InvalidRequest")):
        return AccessDeniedError(
            f"cannot {action} {where}: the server refused the SSE-C key ({fault.message or 'HTTP 400'})",
            hint="leave out --sse-c-key-file for objects that are not SSE-C encrypted",
        )
    if not sent and fault.reads and status == 400 and code == "InvalidRequest":
        return AccessDeniedError(
            f"cannot {action} {where}: the server refused to read it without an SSE-C key ({fault.message or code}); the object is likely SSE-C encrypted",
            hint=_SSE_C_HINT,
        )
    if not sent and bare_400 and fault.reads:
        # a HEAD's 400 has no body: a missing SSE-C key is the usual cause, a wrong --region the other (a
        # write without a key is never refused for the want of one: no SSE-C there)
        return AccessDeniedError(
            f"cannot {action} {where}: the server answered HTTP 400 without a reason; the object may be SSE-C encrypted and no SSE-C key was given",
            hint=f"{_SSE_C_HINT}; or check --region",
        )
    return None


def _where(bucket: str | None, key: str | None) -> str:
    if bucket and key:
        return f"s3://{bucket}/{key}"
    if bucket:
        return f"s3://{bucket}"
    return ""


def _on(where: str) -> str:
    return f" {where}" if where else ""


def _client_error_fault(exc: Any) -> Fault:
    response = exc.response if isinstance(getattr(exc, "response", None), dict) else {}
    error = response.get("Error", {})
    metadata = response.get("ResponseMetadata", {})
    status = metadata.get("HTTPStatusCode")
    code = str(error.get("Code", "") or "")
    not_s3 = ""
    if code == answers.NOT_S3:  # storage.answers rewrote a body that was not S3 XML: its real status
        not_s3, code = str(error.get(answers.CONTENT_TYPE, "") or "a body that is not XML"), ""
        status = int(error.get(answers.STATUS) or 0) or status
    return Fault(
        status if isinstance(status, int) else None,
        code,
        redact(str(error.get("Message", "") or code or exc)),
        operation=str(getattr(exc, "operation_name", "") or ""),
        sse_c_sent=bool(error.get(SSE_C_SENT)),
        location=redact(str(metadata.get("HTTPHeaders", {}).get("location", "") or ""))[:200],
        not_s3=not_s3,
    )


def fault_of(exc: BaseException) -> Fault:
    """What a botocore ClientError's answer said (status and code; empty for anything else): for the call
    sites that act on one particular answer (a setting that is absent, a delete marker's 405) before or
    instead of `translate`."""
    return _client_error_fault(exc)


def translate_client_error(exc: Any, *, action: str, bucket: str | None, key: str | None) -> S3SafeError:
    return classify(_client_error_fault(exc), action=action, bucket=bucket, key=key)


def classify(fault: Fault, *, action: str, bucket: str | None = None, key: str | None = None) -> S3SafeError:
    """The one place a failed S3 request becomes the library's error: by HTTP status and service error code.

    The status decides the class where it is unambiguous (a redirect, 403 refused, 404 absent, 5xx the
    server's failure); the code decides within it (which credential problem, bucket or key) and for the
    rest. The resulting error carries both (`service_code`, `http_status`) for callers that need them.
    """
    error = _classified(fault, action=action, bucket=bucket, key=key, where=_where(bucket, key))
    error.service_code = fault.code or None
    error.http_status = fault.status
    return error


def _classified(fault: Fault, *, action: str, bucket: str | None, key: str | None, where: str) -> S3SafeError:
    status, code, message = fault.status, fault.code, fault.message
    if status is not None and 300 <= status < 400:
        to = f" to {fault.location}" if fault.location else ""
        shown = f" (HTTP {status})" if status else ""
        return ServiceError(f"cannot {action}{_on(where)}: the endpoint answered with a redirect{shown}{to}, which s3safe does not follow",
                            hint=_REDIRECT_HINT)  # fmt: skip
    sse_c = _sse_c_error(fault, action=action, where=where)
    if sse_c is not None:
        return sse_c
    if fault.not_s3 and (status is None or status < 400 or (status < 500 and status not in (401, 403, 404))):
        return _not_s3(fault, action=action, where=where)
    if code in _CREDENTIAL_CODES and status in (None, 400, 401, 403):
        return AccessDeniedError(f"credential problem: {_CREDENTIAL_CODES[code]} ({code})", hint=_CREDENTIAL_HINT)
    if code == "InvalidObjectState" and status in (None, 400, 403):  # S3 answers an archived object's GET with 403
        return UsageError(f"cannot {action}{_on(where)}: the object's storage class does not allow it ({message})")
    if status in (401, 403):
        if status == 401:
            return AccessDeniedError(f"credential problem: the server rejected the credentials for {where or 'the endpoint'}", hint=_CREDENTIAL_HINT)
        return AccessDeniedError(f"access denied: cannot {action}{_on(where)}", hint="check the bucket policy and your IAM permissions")
    if status == 404:
        return _not_found(code, key=key, where=where, action=action)
    if code == "PreconditionFailed" or status == 412:
        return ConditionFailed(f"cannot {action}{_on(where)}: the object is no longer as the request's condition required (412)")
    if code == "NotImplemented" or status == 501:
        return UnsupportedError(f"cannot {action}{_on(where)}: {UNSUPPORTED}")
    if status is not None and status >= 500:
        named = f" ({code})" if code and code != str(status) else ""  # a bare status as the code: said once
        return ServiceError(f"cannot {action}{_on(where)}: the server failed with HTTP {status}{named}",
                            hint="try again later; if it persists, the server's logs say why")  # fmt: skip
    return _by_code(fault, action=action, bucket=bucket, key=key, where=where)


def _not_s3(fault: Fault, *, action: str, where: str) -> S3SafeError:
    """A 2xx or 4xx answer whose body was not S3 XML: a captive portal, a web server, a wrong endpoint.
    (401/403/404 and 5xx keep the class their status gives.)"""
    listing = fault.operation.startswith("List")
    answered = "a listing" if listing else f"HTTP {fault.status}" if fault.status else "the request"
    what = fault.not_s3 if fault.not_s3.startswith("without ") else f"with {fault.not_s3}, not S3 XML"
    return NotS3Error(f"cannot {action}{_on(where)}: the endpoint answered {answered} {what} — is --endpoint-url right?")


def _not_found(code: str, *, key: str | None, where: str, action: str) -> NotFoundError:
    what = {"NoSuchBucket": "bucket", "NoSuchUpload": "multipart upload", "NoSuchVersion": "version"}.get(code, "object" if key else "bucket")
    if what == "bucket" and where.startswith("s3://"):  # the bucket is what is missing: named alone, not with a key
        where = "s3://" + where[5:].split("/", 1)[0]
    if where:
        return NotFoundError(f"not found: {what} {where} does not exist")
    if code in ("NoSuchBucket", "NoSuchUpload", "NoSuchVersion", "NoSuchKey"):
        return NotFoundError(f"not found: the {what} does not exist")
    # a request that names no bucket (ListJobs, an account-level call) answered 404 without an S3 code: the
    # endpoint does not serve that API (moto and most S3-compatible servers have no S3 Control), not "no bucket"
    return NotFoundError(f"cannot {action}: the endpoint has no such API (HTTP 404{f', {code}' if code and code != '404' else ''})",
                         hint="check --endpoint-url; S3-compatible servers often lack account-level APIs such as S3 Control (jobs)")  # fmt: skip


def _by_code(fault: Fault, *, action: str, bucket: str | None, key: str | None, where: str) -> S3SafeError:
    """A 4xx other than 401/403/404 (or an answer without a status): the service's code says what it is."""
    code, message, status = fault.code, fault.message, fault.status
    if code in _CREDENTIAL_CODES:
        return AccessDeniedError(f"credential problem: {_CREDENTIAL_CODES[code]} ({code})", hint=_CREDENTIAL_HINT)
    if code in ("AccessDenied", "AllAccessDisabled", "403", "Forbidden"):
        return AccessDeniedError(f"access denied: cannot {action}{_on(where)}", hint="check the bucket policy and your IAM permissions")
    if code in _NOT_FOUND_CODES:
        return _not_found(code, key=key, where=where, action=action)
    if code in _INTEGRITY_CODES:
        return IntegrityError(f"integrity check failed for {where or 'the endpoint'}: {message} ({code})")
    if code == "AccessControlListNotSupported":
        return AclsDisabledError(
            f"cannot {action}{_on(where)}: the bucket has ACLs disabled (Object Ownership = BucketOwnerEnforced)",
            hint="its objects are private unless a bucket policy says otherwise; grant access with a bucket policy",
        )
    if code == "BucketAlreadyOwnedByYou":
        return UsageError(f"bucket {where} already exists and is yours")
    if code == "BucketAlreadyExists":
        return UsageError(f"bucket name {bucket!r} is taken by another account", hint="choose another name")
    if code == "BucketNotEmpty":
        return BucketNotEmptyError(f"bucket {where} is not empty", hint="empty it first, or use 'rb --force'")
    if code in ("IllegalLocationConstraintException", "InvalidLocationConstraint"):
        return UsageError(
            f"cannot {action}{_on(where)}: {message} ({code})",
            hint="name a region this endpoint serves with --bucket-region (and sign for it with --region)",
        )
    if code in _USAGE_CODES:
        return UsageError(f"cannot {action}{_on(where)}: {message} ({code})")
    if status is not None and code in ("", str(status)):
        return ServiceError(f"cannot {action}{_on(where)}: the server answered HTTP {status} without a reason")
    return ServiceError(f"cannot {action}{_on(where)}: {message} ({code or status})")


def translate(
    exc: BaseException, *, action: str, bucket: str | None = None, key: str | None = None, sse_c: bool = False
) -> S3SafeError:
    """Map any exception from boto3, botocore or obstore to an S3SafeError; `sse_c`: the request (through
    obstore, whose errors cannot say so) carried an SSE-C key."""
    if isinstance(exc, S3SafeError):
        return exc
    import botocore.exceptions as bex
    import obstore.exceptions as oex

    where = _where(bucket, key)
    if isinstance(exc, bex.ClientError):
        return translate_client_error(exc, action=action, bucket=bucket, key=key)
    if isinstance(exc, answers.NotS3Answer):
        return classify(Fault(exc.status, "", operation=exc.method, not_s3=exc.what), action=action, bucket=bucket, key=key)
    if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError):
        return AccessDeniedError(f"no usable AWS credentials: {redact(str(exc))}", hint=_CREDENTIAL_HINT)
    if isinstance(exc, bex.CredentialRetrievalError | bex.InfiniteLoopConfigError):
        # a credential_process that fails or prints no JSON, a source_profile chain that loops: no credentials,
        # as exit 4 says, not an error of the run
        return AccessDeniedError(f"cannot load AWS credentials: {redact(str(exc)).rstrip(': ')}", hint=_CREDENTIAL_HINT)
    if isinstance(exc, bex.ProfileNotFound):
        return UsageError(f"unknown profile: {redact(str(exc))}", hint="list profiles with 'aws configure list-profiles'")
    if isinstance(exc, bex.SSLError):
        return ServiceError(
            f"TLS certificate verification failed for {where or 'the endpoint'}",
            hint="if the server uses a private CA, pass its certificate with --ca-bundle FILE",
        )
    # the timeouts first: botocore's ConnectTimeoutError is an EndpointConnectionError too
    if isinstance(exc, bex.ReadTimeoutError):
        return _timed_out(action, where)
    if isinstance(exc, bex.ConnectTimeoutError):
        return ServiceError(f"cannot {action}{_on(where)}: no connection to the server within --timeout",
                            hint="check --endpoint-url and the network; a slow network may need a larger --timeout")  # fmt: skip
    if isinstance(exc, bex.ConnectionClosedError):  # botocore's words, with the endpoint URL, stay in --debug
        return _cut(action, where)
    if isinstance(exc, bex.EndpointConnectionError):
        return ServiceError(f"cannot reach the S3 endpoint: {redact(str(exc))}", hint="check --endpoint-url and the network")
    if isinstance(exc, bex.ParamValidationError):
        return UsageError(redact(str(exc)).replace("\n", " "))
    if isinstance(exc, bex.BotoCoreError):
        return ServiceError(f"cannot {action}{_on(where)}: {redact(str(exc))}")
    if isinstance(exc, oex.BaseError | FileNotFoundError) and _STATUS.search(str(exc)):
        return classify(_obstore_fault(exc, sse_c=sse_c), action=action, bucket=bucket, key=key)
    if isinstance(exc, oex.AlreadyExistsError | oex.PreconditionError):
        return ConditionFailed(f"cannot {action}{_on(where)}: the object is no longer as the request's condition required (412)")
    if isinstance(exc, oex.NotFoundError):
        return NotFoundError(f"not found: {where or 'the object'} does not exist")
    if isinstance(exc, oex.PermissionDeniedError):
        return AccessDeniedError(f"access denied: cannot {action}{_on(where)}")
    if isinstance(exc, oex.UnauthenticatedError):
        return AccessDeniedError(f"credential problem: the server rejected the credentials for {where or 'the endpoint'}", hint=_CREDENTIAL_HINT)
    if isinstance(exc, oex.BaseError):
        return _obstore_without_answer(str(exc), action=action, where=where)
    if isinstance(exc, FileNotFoundError) and exc.filename is None and where:
        return NotFoundError(f"not found: {where} does not exist")  # obstore's way of saying NoSuchKey
    if isinstance(exc, FileNotFoundError):
        return NotFoundError(f"local file not found: {exc.filename}")
    if isinstance(exc, PermissionError):
        return AccessDeniedError(f"local permission denied: {exc.filename}")
    if isinstance(exc, OSError):
        return ServiceError(f"cannot {action}{_on(where)}: {exc.strerror or exc}")
    return ServiceError(f"cannot {action}{_on(where)}: {type(exc).__name__}: {redact(str(exc))}")


# obstore's exceptions carry no status attribute. Its text has the answer's status line ("… Server returned
# non-2xx status code: 503 Service Unavailable: <body>") and the request line ("Error performing GET …"):
# those, and the <Code> element of S3's error document, are read as the structure they are; the rest (and a
# Rust debug dump, "Debug source: …", that only --debug should show) is never searched for meaning.
_STATUS = re.compile(r"non-2xx status code: (\d{3})")
_METHOD = re.compile(r"Error performing ([A-Z]{3,7}) ")
_S3_CODE = re.compile(r"<Code>([A-Za-z0-9.]{1,64})</Code>")
_HTML = re.compile(r"<(!DOCTYPE html|html)[\s>]", re.IGNORECASE)
_S3_MESSAGE = re.compile(r"<Message>([^<]{0,300})</Message>")
# the address of storage.connection.REDIRECT_FENCE, as the client's connect error names it
_FENCED = re.compile(r"\b127\.0\.0\.1:0\b")
_GENERIC = "Generic S3 error"  # obstore's words for an answer it could not read (not an S3 error document)
_UNREADABLE = re.compile(r"invalid|deseriali[sz]|decod|pars(e|ing)|xml", re.IGNORECASE)
_MISSING_HEADER = re.compile(r"([A-Za-z][A-Za-z0-9-]{0,40}) Header missing")
_REDIRECT_HINT = "check --endpoint-url and --region; an S3 endpoint answers requests itself"
_CUT = ("error sending request", "connection closed", "IncompleteMessage", "Interrupted", "error decoding response body",
        "end of file before message length", "connection reset")  # fmt: skip


_TIMED_OUT = re.compile(r"timed out|TimedOut|\bdeadline has elapsed", re.I)


def _timed_out(action: str, where: str) -> ServiceError:
    return ServiceError(f"cannot {action}{_on(where)}: the server did not answer within --timeout",
                        hint="nothing partial was kept; run the command again, with a larger --timeout if the server is slow")  # fmt: skip


def _cut(action: str, where: str) -> ServiceError:
    return ServiceError(f"cannot {action}{_on(where)}: the connection was cut before the server's answer was complete",
                        hint="nothing partial was kept; run the command again (check the network or a proxy in between)")  # fmt: skip


def obstore_transient(exc: BaseException) -> str | None:
    """Why an obstore request is worth sending again (its status, or "connection cut"), None when it is not: a 5xx
    or 429 answer, or a connection that broke before the answer; never a 4xx nor the redirect fence's refusal."""
    text = str(exc)
    status = _STATUS.search(text)
    if status is not None:
        code = int(status.group(1))
        return str(code) if code >= 500 or code == 429 else None
    if _FENCED.search(text) or isinstance(exc, FileNotFoundError):
        return None
    if any(cut in text for cut in _CUT) or "timed out" in text.lower() or "timeout" in text.lower():
        return "connection cut"
    return None


def _obstore_fault(exc: BaseException, *, sse_c: bool) -> Fault:
    brief = redact(" ".join(str(exc).split())).split(" Debug source:")[0]
    status = _STATUS.search(brief)
    body = brief[status.end():] if status else ""  # the error document follows the status line
    code = _S3_CODE.search(body)
    message = _S3_MESSAGE.search(body)
    method = _METHOD.search(brief)
    not_s3 = "an HTML page" if code is None and _HTML.search(body) else ""  # a portal's or web server's error page
    return Fault(int(status.group(1)) if status else None, code.group(1) if code else "", message.group(1) if message else "",
                 operation=method.group(1) if method else "", sse_c_sent=sse_c, not_s3=not_s3)  # fmt: skip


def _obstore_without_answer(text: str, *, action: str, where: str) -> S3SafeError:
    """An obstore failure that carries no HTTP answer: a redirect its client gave up on, a cut connection, a
    TLS failure, or something else, shown briefly."""
    brief = redact(" ".join(text.split())).split(" Debug source:")[0]
    if _FENCED.search(text):  # the connection's redirect fence refused a request to another host
        return ServiceError(f"cannot {action}{_on(where)}: the endpoint answered with a redirect to another host, which s3safe "
                            "does not follow (nothing was sent there)", hint=_REDIRECT_HINT)  # fmt: skip
    if "error following redirect" in brief:
        return ServiceError(f"cannot {action}{_on(where)}: the endpoint answered with a redirect, which s3safe does not follow", hint=_REDIRECT_HINT)
    if _TIMED_OUT.search(text):  # reqwest says "operation timed out" inside "error sending request": before _CUT
        return _timed_out(action, where)
    if any(sign in text for sign in _CUT):
        return _cut(action, where)
    if "certificate" in brief.lower():
        return ServiceError(f"TLS certificate verification failed for {where or 'the endpoint'}", hint="pass --ca-bundle FILE for a private CA")
    if _GENERIC in brief:
        # obstore's own reading of an answer it could not use; its words stay in the --debug log (translated)
        method = _METHOD.search(brief)
        missing = _MISSING_HEADER.search(brief)
        if missing:
            not_s3 = f"without the {missing.group(1)} header S3 always sends"
        elif _UNREADABLE.search(brief):
            not_s3 = "a body that is not S3 XML"
        else:
            return ServiceError(f"cannot {action}{_on(where)}: the S3 client could not complete the request (--debug shows its own words)")
        return _not_s3(Fault(None, "", operation=method.group(1) if method else "", not_s3=not_s3), action=action, where=where)
    if len(brief) > 300:
        brief = brief[:300] + "…"
    return ServiceError(f"cannot {action}{_on(where)}: {brief}")


@contextmanager
def translated(action: str, *, bucket: str | None = None, key: str | None = None, sse_c: bool = False) -> Iterator[None]:
    """Run a block and re-raise anything it throws as an S3SafeError; `sse_c`: see translate."""
    try:
        yield
    except S3SafeError:
        raise
    except (KeyboardInterrupt, GeneratorExit):
        raise
    except Exception as exc:
        log.debug("cannot %s %s: the client said: %s", action, _where(bucket, key), redact(str(exc)))  # the raw text, for --debug
        raise translate(exc, action=action, bucket=bucket, key=key, sse_c=sse_c) from exc
    except BaseException as exc:
        if not is_panic(exc):
            raise
        raise ServiceError(
            f"cannot {action}{_on(_where(bucket, key))}: the S3 client refused the request ({redact(str(exc))[:200]})",
            hint="check the option values for control characters or other text a request cannot carry",
        ) from None


def is_panic(exc: BaseException) -> bool:
    """A Rust panic from obstore (pyo3's PanicException): a BaseException that `except Exception` misses."""
    return type(exc).__name__ == "PanicException" and type(exc).__module__ in ("pyo3_runtime", "builtins")


def escaped(exc: BaseException) -> S3SafeError | None:
    """An exception of the S3 client libraries that no `translated` block caught, as the condition it stands for
    (no network, a refused request), else None. The CLI's last net: such a gap is a bug to close where the call
    is made, but the person running the command should read what happened, not "internal error"."""
    if type(exc).__module__.split(".")[0] not in ("botocore", "boto3", "obstore", "urllib3", "s3transfer"):
        return None
    return translate(exc, action="complete the request")
