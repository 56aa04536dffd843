"""Turns boto3/botocore and obstore exceptions into the library's own errors, in one place."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from s3safe.core.errors import (
    AccessDeniedError,
    IntegrityError,
    NotFoundError,
    S3SafeError,
    ServiceError,
    UsageError,
)
from s3safe.core.redact import redact

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


class UnsupportedError(ServiceError):
    """The endpoint does not implement this request (an S3-compatible store without that sub-resource)."""


UNSUPPORTED = "not supported by this endpoint"


# set by the connection's botocore hook on an error answer to a request that carried an SSE-C key
SSE_C_SENT = "S3SafeSseCKeySent"
_SSE_C_HINT = "pass the key the object was written with: --sse-c-key-file FILE"


def _sse_c_error(status: int | None, code: str, message: str, *, sent: bool, action: str, where: str) -> S3SafeError | None:
    """A refusal SSE-C explains, as one line that names the key: a wrong key is a bare 403 (HEAD) or
    AccessDenied, a missing one a bare 400 (HEAD) or InvalidRequest "…stored using a form of Server Side
    Encryption…" (GET). None for anything else."""
    if not where.count("/") > 2:  # object requests only: s3://bucket/key
        return None
    stored_sse_c = "Server Side Encryption" in message and code in ("InvalidRequest", "400", "BadRequest", "")
    if sent and (status == 403 or code in ("AccessDenied", "403", "Forbidden")):
        return AccessDeniedError(
            f"access denied: cannot {action} {where}: the SSE-C key may be wrong (S3 refuses a key other than the one the object was written with)",
            hint="check that --sse-c-key-file names that object's SSE-C key; else check the bucket policy and your IAM permissions",
        )
    about_key = code in ("400", "BadRequest") or "ncryption" in message or "key" in message.lower()
    if sent and about_key and (status == 400 or code in ("InvalidRequest", "400", "BadRequest")):
        return AccessDeniedError(
            f"cannot {action} {where}: the server refused the SSE-C key ({message or 'HTTP 400'})",
            hint="leave out --sse-c-key-file for objects that are not SSE-C encrypted",
        )
    if not sent and (stored_sse_c or (status == 400 and code in ("400", "BadRequest") and message in ("", "Bad Request", code))):
        if stored_sse_c:
            return AccessDeniedError(f"cannot {action} {where}: the object is SSE-C encrypted and no SSE-C key was given", hint=_SSE_C_HINT)
        # a HEAD's 400 has no body: a missing SSE-C key is the usual cause, a wrong --region the other
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


def translate_client_error(exc: Any, *, action: str, bucket: str | None, key: str | None) -> S3SafeError:
    error = exc.response.get("Error", {}) if hasattr(exc, "response") else {}
    code = str(error.get("Code", "") or "")
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") if hasattr(exc, "response") else None
    message = redact(str(error.get("Message", "") or code or exc))
    where = _where(bucket, key)
    if isinstance(status, int) and 300 <= status < 400:
        return _redirect_error(exc, action=action, where=where, status=status)
    sse_c = _sse_c_error(status if isinstance(status, int) else None, code, message,
                         sent=bool(error.get(SSE_C_SENT)), action=action, where=where)  # fmt: skip
    if sse_c is not None:
        return sse_c
    if code == "NotImplemented" or status == 501:
        return UnsupportedError(f"cannot {action}{_on(where)}: {UNSUPPORTED}")
    if code in _CREDENTIAL_CODES:
        return AccessDeniedError(f"credential problem: {_CREDENTIAL_CODES[code]} ({code})", hint=_CREDENTIAL_HINT)
    if code == "InvalidObjectState":
        return UsageError(f"cannot {action}{_on(where)}: the object's storage class does not allow it ({message})")
    if code in ("AccessDenied", "AllAccessDisabled", "403", "Forbidden") or status == 403:
        return AccessDeniedError(
            f"access denied: cannot {action}{_on(where)}",
            hint="check the bucket policy and your IAM permissions",
        )
    if code in _NOT_FOUND_CODES or status == 404:
        what = {"NoSuchBucket": "bucket", "NoSuchUpload": "multipart upload", "NoSuchVersion": "version"}.get(
            code, "object" if key else "bucket"
        )
        return NotFoundError(f"not found: {what} {where} does not exist")
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
        return UsageError(f"bucket {where} is not empty", hint="empty it first, or use 'rb --force'")
    if code in ("IllegalLocationConstraintException", "InvalidLocationConstraint"):
        return UsageError(
            f"cannot {action}{_on(where)}: {message} ({code})",
            hint="name a region this endpoint serves with --bucket-region (and sign for it with --region)",
        )
    if code in _USAGE_CODES:
        return UsageError(f"cannot {action}{_on(where)}: {message} ({code})")
    return ServiceError(f"cannot {action}{_on(where)}: {message} ({code or status})")


def _redirect_error(exc: Any, *, action: str, where: str, status: int) -> S3SafeError:
    headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
    location = redact(str(headers.get("location", "") or ""))[:200]
    to = f" to {location}" if location else ""
    return ServiceError(
        f"cannot {action}{_on(where)}: the endpoint answered with a redirect (HTTP {status}){to}, which s3safe does not follow",
        hint="check --endpoint-url and --region; an S3 endpoint answers requests itself",
    )


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
    if isinstance(exc, bex.NoCredentialsError | bex.PartialCredentialsError):
        return AccessDeniedError(f"no usable AWS credentials: {redact(str(exc))}", hint=_CREDENTIAL_HINT)
    if isinstance(exc, bex.ProfileNotFound):
        return UsageError(f"unknown profile: {redact(str(exc))}", hint="list profiles with 'aws configure list-profiles'")
    if isinstance(exc, bex.SSLError):
        return ServiceError(
            f"TLS certificate verification failed for {where or 'the endpoint'}",
            hint="if the server uses a private CA, pass its certificate with --ca-bundle FILE",
        )
    if isinstance(exc, bex.EndpointConnectionError | bex.ConnectTimeoutError | bex.ReadTimeoutError):
        return ServiceError(f"cannot reach the S3 endpoint: {redact(str(exc))}", hint="check --endpoint-url and the network")
    if isinstance(exc, bex.ParamValidationError):
        return UsageError(redact(str(exc)).replace("\n", " "))
    if isinstance(exc, bex.BotoCoreError):
        return ServiceError(f"cannot {action}{_on(where)}: {redact(str(exc))}")
    if isinstance(exc, oex.BaseError):
        explained = _obstore_sse_c(str(exc), sent=sse_c, action=action, where=where)
        if explained is not None:
            return explained
    if isinstance(exc, oex.NotFoundError):
        return NotFoundError(f"not found: {where or 'the object'} does not exist")
    if isinstance(exc, oex.PermissionDeniedError):
        return AccessDeniedError(f"access denied: cannot {action}{_on(where)}")
    if isinstance(exc, oex.UnauthenticatedError):
        return AccessDeniedError(f"credential problem: the server rejected the credentials for {where or 'the endpoint'}", hint=_CREDENTIAL_HINT)
    if isinstance(exc, oex.BaseError):
        return _translate_obstore_text(str(exc), action=action, where=where)
    if isinstance(exc, FileNotFoundError) and exc.filename is None and where:
        return NotFoundError(f"not found: {where} does not exist")  # obstore's way of saying NoSuchKey
    if isinstance(exc, FileNotFoundError):
        return NotFoundError(f"local file not found: {exc.filename}")
    if isinstance(exc, PermissionError):
        return AccessDeniedError(f"local permission denied: {exc.filename}")
    if isinstance(exc, OSError):
        return ServiceError(f"cannot {action}{_on(where)}: {exc.strerror or exc}")
    return ServiceError(f"cannot {action}{_on(where)}: {type(exc).__name__}: {redact(str(exc))}")


# obstore's exceptions carry no status: its text does ("… non-2xx status code: 503 Service Unavailable: …"),
# followed by a Rust debug dump ("Debug source: Generic { … }") that only --debug should show
_STATUS = re.compile(r"non-2xx status code: (\d{3})")
_S3_CODE = re.compile(r"<Code>([A-Za-z0-9.]{1,64})</Code>")
_REDIRECT_HINT = "check --endpoint-url and --region; an S3 endpoint answers requests itself"
_CUT = ("error sending request", "connection closed", "IncompleteMessage", "Interrupted", "error decoding response body",
        "end of file before message length", "connection reset")  # fmt: skip


_S3_MESSAGE = re.compile(r"<Message>([^<]{0,300})</Message>")


def _obstore_sse_c(text: str, *, sent: bool, action: str, where: str) -> S3SafeError | None:
    flat = redact(" ".join(text.split())).split(" Debug source:")[0]
    found = _STATUS.search(flat)
    code = _S3_CODE.search(flat)
    message = _S3_MESSAGE.search(flat)
    return _sse_c_error(int(found.group(1)) if found else None, code.group(1) if code else "",
                        message.group(1) if message else "", sent=sent, action=action, where=where)  # fmt: skip


def _obstore_brief(flat: str, *, action: str, where: str) -> S3SafeError | None:
    """A redirect, a server error or a cut connection, as one line; None for anything else."""
    brief = flat.split(" Debug source:")[0]
    found = _STATUS.search(brief)
    status = int(found.group(1)) if found else None
    if "error following redirect" in brief or (status is not None and 300 <= status < 400):
        shown = f" (HTTP {status})" if status is not None else ""
        return ServiceError(
            f"cannot {action}{_on(where)}: the endpoint answered with a redirect{shown}, which s3safe does not follow", hint=_REDIRECT_HINT
        )
    if status is not None and status >= 500:
        code = _S3_CODE.search(flat)
        named = f" ({code.group(1)})" if code else ""
        return ServiceError(f"cannot {action}{_on(where)}: the server failed with HTTP {status}{named}",
                            hint="try again later; if it persists, the server's logs say why")  # fmt: skip
    if status is None and any(sign in brief or sign in flat for sign in _CUT):
        return ServiceError(f"cannot {action}{_on(where)}: the connection was cut before the server's answer was complete",
                            hint="nothing partial was kept; run the command again (check the network or a proxy in between)")  # fmt: skip
    return None


def _translate_obstore_text(text: str, *, action: str, where: str) -> S3SafeError:
    """obstore reports many S3 errors as generic text; pick out the codes we know."""
    flat = redact(" ".join(text.split()))
    brief = _obstore_brief(flat, action=action, where=where)
    if brief is not None:
        return brief
    for code, meaning in _CREDENTIAL_CODES.items():
        if code in flat:
            return AccessDeniedError(f"credential problem: {meaning} ({code})", hint=_CREDENTIAL_HINT)
    if "AccessControlListNotSupported" in flat:
        return AclsDisabledError(f"cannot {action}{_on(where)}: the bucket has ACLs disabled (Object Ownership = BucketOwnerEnforced)")
    status = _STATUS.search(flat)
    http = int(status.group(1)) if status else None
    if "AccessDenied" in flat or http == 403:  # not "403" anywhere: a timing such as "12.403ms" has it
        return AccessDeniedError(f"access denied: cannot {action}{_on(where)}")
    if "NoSuchBucket" in flat:
        return NotFoundError(f"not found: bucket {where or ''} does not exist")
    if "NoSuchKey" in flat or http == 404:
        return NotFoundError(f"not found: {where or 'the object'} does not exist")
    for code in _INTEGRITY_CODES:
        if code in flat:
            return IntegrityError(f"integrity check failed for {where or 'the endpoint'} ({code})")
    if "certificate" in flat.lower():
        return ServiceError(f"TLS certificate verification failed for {where or 'the endpoint'}", hint="pass --ca-bundle FILE for a private CA")
    flat = flat.split(" Debug source:")[0]
    if len(flat) > 300:
        flat = flat[:300] + "…"
    return ServiceError(f"cannot {action}{_on(where)}: {flat}")


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
        raise translate(exc, action=action, bucket=bucket, key=key, sse_c=sse_c) from None
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
