"""`presign`: SigV4 pre-signed GET/PUT URLs and POST forms with short, capped lifetimes.

Only the signature version 4 client of storage.connection signs (its Config pins signature_version s3v4),
so the 7-day SigV4 cap applies. The result carries the URL (or form) for stdout alone; nothing here logs it.
"""

from __future__ import annotations

import logging
import re
import shlex
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from s3safe.core.errors import UsageError
from s3safe.core.locations import S3Url
from s3safe.core.redact import MASK
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated

DEFAULT_EXPIRES = 3600
MAX_EXPIRES = 7 * 24 * 3600  # SigV4 query signatures: X-Amz-Expires at most 604800
MAX_POST_SIZE = 5 * 1024**3  # the S3 limit for one POST upload
METHODS = ("GET", "PUT", "POST")
SSE_CHOICES = ("AES256", "aws:kms", "none")

_DURATION_RE = re.compile(r"(\d+)\s*([smhdw]?)", re.IGNORECASE)
_UNIT_SECONDS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?)(b?)\s*$", re.IGNORECASE)


def parse_duration(text: str) -> int:
    """'15m', '1h', '7d', '1h30m', '90' (seconds) -> seconds; refuses more than 7 days (SigV4's cap)."""
    compact = text.strip().replace(" ", "")
    if not compact or _DURATION_RE.sub("", compact):
        raise UsageError(f"invalid duration {text!r}", hint="use e.g. 90s, 15m, 1h, 2d or 1h30m")
    seconds = sum(int(n) * _UNIT_SECONDS[u.lower()] for n, u in _DURATION_RE.findall(compact))
    if seconds <= 0:
        raise UsageError(f"duration {text!r} must be above zero")
    if seconds > MAX_EXPIRES:
        raise UsageError(f"--expires {text} is longer than 7 days, the most a SigV4 pre-signed URL allows", hint="use 7d or less")
    return seconds


def parse_size(text: str) -> int:
    """'10MB', '512KiB', '1048576' -> bytes (0 allowed)."""
    match = _SIZE_RE.match(text)
    if not match:
        raise UsageError(f"invalid size {text!r}", hint="use a number with an optional unit, e.g. 10MB or 512KiB")
    number, power, binary, _ = match.groups()
    base = 1024 if binary else 1000
    return int(float(number) * base ** " kmgt".index(power.lower() or " "))


@dataclass(frozen=True)
class PresignRequest:
    method: str = "GET"
    expires: int = DEFAULT_EXPIRES
    content_type: str | None = None
    sse: str | None = None  # None: POST sends AES256, PUT pins nothing; "none": nothing
    min_size: int | None = None
    max_size: int | None = None


@dataclass(frozen=True)
class Presigned:
    method: str
    url: str
    expires_at: datetime
    headers: dict[str, str] = field(default_factory=dict)  # PUT: signed headers the uploader must send
    fields: dict[str, str] = field(default_factory=dict)  # POST: form fields, before the file
    warnings: tuple[str, ...] = ()

    def curl(self, file: str = "FILE") -> str:
        if self.method == "POST":
            parts = ["curl", "--fail-with-body"]
            for name, value in self.fields.items():
                parts += ["-F", f"{name}={value}"]
            parts += ["-F", f"file=@{file}", self.url]
            return shlex.join(parts)
        if self.method == "PUT":
            parts = ["curl", "--fail-with-body", "--upload-file", file]
            for name, value in self.headers.items():
                parts += ["-H", f"{name}: {value}"]
            return shlex.join([*parts, self.url])
        return shlex.join(["curl", "--fail", "-o", file, self.url])

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "presigned", "method": self.method, "url": self.url, "expires_at": self.expires_at.isoformat()}
        if self.headers:
            out["headers"] = dict(self.headers)
        if self.fields:
            out["fields"] = dict(self.fields)
        if self.method != "GET":
            out["curl"] = self.curl()
        return out


def _check(url: S3Url, request: PresignRequest) -> None:
    if request.method not in METHODS:
        raise UsageError(f"unknown method {request.method!r}", hint="use GET, PUT or POST")
    if not 0 < request.expires <= MAX_EXPIRES:
        raise UsageError("the expiry must be between 1 second and 7 days")
    if request.method != "POST" and (url.is_prefix or not url.key):
        raise UsageError(f"{request.method} needs an object key, not a folder: {url}", hint="POST accepts a folder (uploads go under it)")
    if request.method != "POST" and (request.min_size is not None or request.max_size is not None):
        raise UsageError(f"a pre-signed {request.method} URL cannot limit the size", hint="use --method POST with --max-size")
    if request.method != "POST" and request.content_type and request.content_type.endswith("/"):
        raise UsageError(f"--content-type {request.content_type} is a prefix; only a POST form can accept any type under it")
    if request.sse is not None and request.sse not in SSE_CHOICES:
        raise UsageError(f"unknown server-side encryption {request.sse!r}", hint="one of: " + ", ".join(SSE_CHOICES))
    if request.method == "GET" and request.sse not in (None, "none"):
        raise UsageError("--sse applies to uploads (PUT, POST); a GET is decrypted by S3 whatever the encryption")
    low = request.min_size or 0
    high = MAX_POST_SIZE if request.max_size is None else request.max_size
    if low < 0 or high < 1 or low > high:
        raise UsageError(f"invalid size range {low}..{high}: need 0 <= --min-size <= --max-size and --max-size >= 1")
    if high > MAX_POST_SIZE:
        raise UsageError("--max-size is above 5 GiB, the largest object S3 accepts in one POST")


def _credential_warnings(conn: Connection, expires_at: datetime) -> list[str]:
    frozen = conn.credentials()
    creds = conn.session.get_credentials()
    expiry = getattr(creds, "_expiry_time", None)  # botocore RefreshableCredentials (STS, SSO, IMDS, process)
    if isinstance(expiry, datetime):
        expiry = expiry if expiry.tzinfo else expiry.replace(tzinfo=UTC)
        if expiry < expires_at:
            return [
                f"the signing credentials are temporary and expire at {expiry.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC, "
                f"before the URL ({expires_at:%Y-%m-%d %H:%M:%S} UTC); the URL stops working then"
            ]
        return []
    if getattr(frozen, "token", None):
        return [
            "the signing credentials are temporary (they carry a session token) and their expiry is unknown; "
            f"the URL stops working when they expire, which may be before {expires_at:%Y-%m-%d %H:%M:%S} UTC"
        ]
    return []


class _HideSignatures(logging.Filter):
    """botocore's --debug log prints each SigV4 signature on a line of its own ('Signature:\\n<hex>'), which
    the shape-based redaction (X-Amz-Signature=...) cannot recognise; for a pre-signed URL that signature is
    the credential itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and record.msg.startswith("Signature:"):
            record.msg, record.args = f"Signature: {MASK}", None
        return True


def _hide_signatures_in_logs() -> None:
    log = logging.getLogger("botocore.auth")
    if not any(isinstance(f, _HideSignatures) for f in log.filters):
        log.addFilter(_HideSignatures())


def presign(conn: Connection, url: S3Url, request: PresignRequest, *, now: datetime | None = None) -> Presigned:
    """Sign one GET/PUT URL or one POST form for `url`."""
    _check(url, request)
    _hide_signatures_in_logs()
    expires_at = (now or datetime.now(UTC)).replace(microsecond=0) + timedelta(seconds=request.expires)
    warnings = _credential_warnings(conn, expires_at)
    client = conn.client_for(url.bucket)
    sse = None if request.sse == "none" else request.sse or ("AES256" if request.method == "POST" else None)
    headers: dict[str, str] = {}
    fields: dict[str, str] = {}
    with translated("pre-sign", bucket=url.bucket, key=url.key or None):
        if request.method == "POST":
            target, fields = _post(client, url, request, sse, headers)
        else:
            params: dict[str, Any] = {"Bucket": url.bucket, "Key": url.key}
            if request.method == "PUT":
                if request.content_type:
                    params["ContentType"] = headers["Content-Type"] = request.content_type
                if sse:
                    params["ServerSideEncryption"] = headers["x-amz-server-side-encryption"] = sse
            elif request.content_type:
                params["ResponseContentType"] = request.content_type
            operation = "put_object" if request.method == "PUT" else "get_object"
            target = client.generate_presigned_url(operation, Params=params, ExpiresIn=request.expires, HttpMethod=request.method)
    scheme = urlsplit(target).scheme
    if scheme != "https" and not conn.settings.allow_http:
        raise UsageError(f"refusing to hand out a pre-signed {scheme} URL", hint="use an HTTPS endpoint (or --allow-http for a local test server)")
    if scheme != "https":
        warnings.append("the URL uses plain HTTP: anyone on the network path can read and replay it")
    return Presigned(request.method, target, expires_at, headers, fields, tuple(warnings))


def _post(client: Any, url: S3Url, request: PresignRequest, sse: str | None, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    key = url.key + "${filename}" if url.is_prefix else url.key
    low = request.min_size or 0
    high = MAX_POST_SIZE if request.max_size is None else request.max_size
    fields: dict[str, str] = {}
    # botocore adds ["starts-with", "$key", PREFIX] for a key ending in ${filename}, else {"key": KEY}
    conditions: list[Any] = [["content-length-range", low, high]]
    if request.content_type:
        if request.content_type.endswith("/"):
            conditions.append(["starts-with", "$Content-Type", request.content_type])
        else:
            fields["Content-Type"] = request.content_type
            conditions.append({"Content-Type": request.content_type})
    if sse:
        fields["x-amz-server-side-encryption"] = sse
        conditions.append({"x-amz-server-side-encryption": sse})
    form = client.generate_presigned_post(url.bucket, key, Fields=fields, Conditions=conditions, ExpiresIn=request.expires)
    return str(form["url"]), {str(k): str(v) for k, v in form["fields"].items()}
