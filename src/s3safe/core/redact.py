"""Keeps secrets out of everything a person or a log can read.

Secrets known by value (keys, tokens, passphrases) are registered as soon as they are loaded;
secrets known by shape (signatures in URLs and Authorization headers) are caught by patterns.
"""

from __future__ import annotations

import logging
import re
import threading

MASK = "****"
_MIN_SECRET_LEN = 4

_lock = threading.Lock()
_secrets: set[str] = set()

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # pre-signed URL query strings (SigV4 and SigV2)
    (re.compile(r"(?i)(X-Amz-Signature=)[^&\s'\"]+"), r"\1" + MASK),
    (re.compile(r"(?i)(X-Amz-Security-Token=)[^&\s'\"]+"), r"\1" + MASK),
    (re.compile(r"(?i)(X-Amz-Credential=)[^&\s'\"]+"), r"\1" + MASK),
    (re.compile(r"(?i)([?&]Signature=)[^&\s'\"]+"), r"\1" + MASK),
    (re.compile(r"(?i)([?&]AWSAccessKeyId=)[^&\s'\"]+"), r"\1" + MASK),
    # Authorization headers: keep the scheme, hide credential scope and signature
    (re.compile(r"(?i)(Credential=)[^,&\s'\"]+"), r"\1" + MASK),
    # SigV2 headers: "Authorization: AWS ACCESSKEY:signature"
    (re.compile(r"(?i)(\bAWS )[A-Z0-9]{16,}:[A-Za-z0-9+/=]+"), r"\1" + MASK),
    (re.compile(r"(?i)(Signature=)[0-9a-f]{16,}"), r"\1" + MASK),
    # botocore's debug log prints each SigV4 signature on its own line ("Signature:\n<hex>")
    (re.compile(r"(?i)(Signature:\s*)[0-9a-f]{64}"), r"\1" + MASK),
    # headers and dict reprs that carry secrets by name
    (
        re.compile(
            r"(?i)((?:x-amz-security-token|x-amz-server-side-encryption-customer-key|"
            r"x-amz-copy-source-server-side-encryption-customer-key|aws_secret_access_key|"
            r"aws_session_token|secret_access_key|session_token|SSECustomerKey|CopySourceSSECustomerKey|"
            r"SecretAccessKey|SessionToken|passphrase|password)['\"]?\s*[:=]\s*b?['\"]?)([^'\",&\s}]+)"
        ),
        r"\1" + MASK,
    ),
)


def register_secret(value: str | bytes | None) -> None:
    """Remember a secret so that `redact` hides it wherever it turns up."""
    if value is None:
        return
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if len(text) < _MIN_SECRET_LEN:
        return
    with _lock:
        _secrets.add(text)


def forget_secrets() -> None:
    with _lock:
        _secrets.clear()


def redact(text: str) -> str:
    with _lock:
        known = sorted(_secrets, key=len, reverse=True)
    for secret in known:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactingFilter(logging.Filter):
    """Attach to handlers: the record is formatted once, redacted, and passed on without args."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string in a third-party log call must not crash us
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        if record.exc_info:
            # tracebacks can quote locals; render them now so they pass through redaction too
            formatter = logging.Formatter()
            record.msg += "\n" + redact(formatter.formatException(record.exc_info))
            record.exc_info = None
            record.exc_text = None
        return True
