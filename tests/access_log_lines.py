"""Server access log records written in AWS's documented format, for the parser and `logs` tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from s3safe.security.access_log import COLUMNS, QUOTED

OWNER = "4f1e8b3c9d2a7e6f5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a"
DEFAULTS: dict[str, str] = {
    "bucket_owner": OWNER,
    "bucket": "source-bucket",
    "time": "",  # filled from `when`
    "remote_ip": "198.51.100.7",
    "requester": "arn:aws:iam::123456789012:user/alice",
    "request_id": "7AC1E0B5D2F3EXMP",
    "operation": "REST.GET.OBJECT",
    "key": "reports/q1.csv",
    "request_uri": "GET /source-bucket/reports/q1.csv HTTP/1.1",
    "http_status": "200",
    "error_code": "-",
    "bytes_sent": "2048",
    "object_size": "2048",
    "total_time": "31",
    "turnaround_time": "12",
    "referer": "-",
    "user_agent": "aws-cli/2.22.0 md/arch#x86_64",
    "version_id": "-",
    "host_id": "Yx3kQm1fP0d9vZbT2uWc5NnH8sLgJrA7eKoI4hGtXyE0qRpVsUwMzC6lBfDiNjO=",
    "signature_version": "SigV4",
    "cipher_suite": "TLS_AES_128_GCM_SHA256",
    "authentication_type": "AuthHeader",
    "host_header": "source-bucket.s3.us-east-1.amazonaws.com",
    "tls_version": "TLSv1.3",
    "access_point_arn": "-",
    "acl_required": "-",
    "source_region": "us-east-1",
}


def stamp(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%d/%b/%Y:%H:%M:%S +0000")


def record(when: dt.datetime, *, fields: int = len(COLUMNS), extra: Sequence[str] = (), **values: str) -> str:
    """One log line: the documented fields in order (the first `fields` of them), then `extra` ones."""
    unknown = set(values) - set(COLUMNS)
    if unknown:
        raise TypeError(f"not log fields: {sorted(unknown)}")
    merged = {**DEFAULTS, **values}
    parts = []
    for name in COLUMNS[:fields]:
        value = merged[name]
        if name == "time":
            parts.append(f"[{values.get('time') or stamp(when)}]")
        elif name in QUOTED:  # AWS quotes these even when empty ("-")
            parts.append(f'"{value}"')
        else:
            parts.append(value)
    return " ".join([*parts, *extra])
