"""Keeps secrets out of everything a person or a log can read.

Secrets known by value (keys, tokens, passphrases) are registered as soon as they are loaded;
secrets known by shape (signatures in URLs and Authorization headers) are caught by patterns.

Registered secrets belong to the run that registered them (core/context.py): text produced in a run is
masked of that run's secrets and the process's (ROOT's). Text produced outside any run (the CLI, a log
handler on a thread that carries no run) is masked of every live run's secrets: an unknown origin is
treated as able to hold any of them. A run's secrets go when the run object does.
"""

from __future__ import annotations

import logging
import re
import threading
import weakref

from s3safe.core.context import ROOT, RunContext, current

MASK = "****"
_MIN_SECRET_LEN = 4

_lock = threading.Lock()


class SecretMatcher:
    """Finds every registered secret in a text in time linear in the text, whatever the number of secrets.

    A run can register tens of thousands of secrets (one per encrypted file); checking each line against
    each of them made output O(secrets x lines). Secrets are indexed by their first `_MIN_SECRET_LEN`
    characters, so a scan does one lookup per position and compares only the secrets that start there.
    A handful of secrets is cheaper to check with `in` (C speed) than with a per-character loop.
    """

    SMALL = 16  # up to this many secrets, plain substring checks

    def __init__(self) -> None:
        self._by_head: dict[str, list[str]] = {}
        self._all: set[str] = set()
        self.comparisons = 0  # work done, for tests that prove the cost does not grow with the secrets

    def __len__(self) -> int:
        return len(self._all)

    def add(self, secret: str) -> None:
        if secret in self._all:
            return
        self._all.add(secret)
        bucket = self._by_head.setdefault(secret[:_MIN_SECRET_LEN], [])
        bucket.append(secret)
        bucket.sort(key=len, reverse=True)

    def clear(self) -> None:
        self._by_head.clear()
        self._all.clear()

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of every occurrence of every secret, merged where they touch or overlap."""
        found = self._spans_small(text) if len(self._all) <= self.SMALL else self._spans_indexed(text)
        return _merge(found)

    def _spans_small(self, text: str) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        for secret in self._all:
            self.comparisons += 1
            start = text.find(secret)
            while start != -1:
                found.append((start, start + len(secret)))
                start = text.find(secret, start + 1)
        return found

    def _spans_indexed(self, text: str) -> list[tuple[int, int]]:
        found: list[tuple[int, int]] = []
        by_head = self._by_head
        for i in range(len(text) - _MIN_SECRET_LEN + 1):
            candidates = by_head.get(text[i : i + _MIN_SECRET_LEN])
            if candidates is None:
                continue
            for secret in candidates:  # longest first: the first match covers the others
                self.comparisons += 1
                if text.startswith(secret, i):
                    found.append((i, i + len(secret)))
                    break
        return found


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


_matcher = SecretMatcher()  # the process's own (ROOT's)
_matchers: weakref.WeakKeyDictionary[RunContext, SecretMatcher] = weakref.WeakKeyDictionary({ROOT: _matcher})


def _matcher_of(run: RunContext) -> SecretMatcher:
    """(under _lock)"""
    found = _matchers.get(run)
    if found is None:
        found = _matchers[run] = SecretMatcher()
    return found


def _in_scope() -> list[SecretMatcher]:
    """(under _lock) the registries whose secrets text of the current run is masked of."""
    run = current()
    if run is ROOT:
        return [m for m in _matchers.values() if len(m)]
    return [m for m in (_matchers.get(run), _matcher) if m is not None and len(m)]

_ECHOED = "SignatureProvided|StringToSignBytes|StringToSign|CanonicalRequestBytes|CanonicalRequest|AWSAccessKeyId"
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # pre-signed URL query strings (SigV4 and SigV2)
    (re.compile(r"(?i)(X-Amz-Signature=)[^&\s'\"#:<>)]+"), r"\1" + MASK),
    (re.compile(r"(?i)(X-Amz-Security-Token=)[^&\s'\"#:<>)]+"), r"\1" + MASK),
    (re.compile(r"(?i)(X-Amz-Credential=)[^&\s'\"#:<>)]+"), r"\1" + MASK),
    (re.compile(r"(?i)([?&]Signature=)[^&\s'\"#:<>)]+"), r"\1" + MASK),
    (re.compile(r"(?i)([?&]AWSAccessKeyId=)[^&\s'\"#:<>)]+"), r"\1" + MASK),
    # a password in a URL's user:password@ part
    (re.compile(r"(://[^/\s:@'\"]*:)[^@/\s'\"]+@"), r"\1" + MASK + "@"),
    # Authorization headers: keep the scheme, hide credential scope and signature
    (re.compile(r"(?i)(Credential=)[^,&\s'\"]+"), r"\1" + MASK),
    # SigV2 headers: "Authorization: AWS ACCESSKEY:signature"
    (re.compile(r"(?i)(\bAWS )[A-Z0-9]{16,}:[A-Za-z0-9+/=]+"), r"\1" + MASK),
    (re.compile(r"(?i)(Signature=)[0-9a-f]{16,}"), r"\1" + MASK),
    # botocore's debug log prints each SigV4 signature on its own line ("Signature:\n<hex>")
    (re.compile(r"(?i)(Signature:\s*)[0-9a-f]{64}"), r"\1" + MASK),
    # an S3 SignatureDoesNotMatch document echoes the signature, what was signed and the access key: as XML
    # (a body in --debug, obstore's error text) and as the dict botocore parses it into
    (re.compile(r"(?is)(<(" + _ECHOED + r")>).*?(</\2>)"), r"\1" + MASK + r"\3"),
    (re.compile(r"(?is)(['\"](?:" + _ECHOED + r")['\"]\s*:\s*)(['\"]).*?(?<!\\)\2"), r"\1'" + MASK + "'"),
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


# Every pattern above needs one of these words (case-insensitively) to match: a line holding none of them is
# returned without the eleven passes, which cost about 100 µs a line (a tree run prints a line per object).
# Keep the two lists together: tests/unit/test_redact.py checks that each pattern names its word.
_TRIGGERS = ("signature", "token", "credential", "awsaccesskeyid", "stringtosign", "canonicalrequest", "@", "aws ", "customer", "secret", "passphrase",
             "password")  # fmt: skip
# the only non-ASCII letters that `re` with IGNORECASE matches to an ASCII letter
_ASCII_ALIKE = str.maketrans({"\u0130": "i", "\u0131": "i", "\u017f": "s", "\u212a": "k"})


def _may_match_a_pattern(text: str) -> bool:
    folded = (text if text.isascii() else text.translate(_ASCII_ALIKE)).lower()
    return any(word in folded for word in _TRIGGERS)


def register_secret(value: str | bytes | None) -> None:
    """Remember a secret so that `redact` hides it wherever it turns up."""
    if value is None:
        return
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if len(text) < _MIN_SECRET_LEN:
        return
    with _lock:
        _matcher_of(current()).add(text)


# A passphrase is a word people also use in names ("report"): masking every occurrence would garble keys
# and file names in output (and --json could no longer give them back), and the masked spots would show
# anyone reading the log which word the passphrase is. s3safe never prints a passphrase; masking it inside
# other text is a last net kept for passphrases long enough not to occur in names by chance.
PASSPHRASE_MASK_MIN = 12


def register_passphrase(passphrase: str | None) -> None:
    """A user-chosen passphrase: masked in output only when at least PASSPHRASE_MASK_MIN characters long."""
    if passphrase is not None and len(passphrase) >= PASSPHRASE_MASK_MIN:
        register_secret(passphrase)


def forget_secrets() -> None:
    """Forget the current run's secrets."""
    with _lock:
        _matcher_of(current()).clear()


def redact(text: str) -> str:
    with _lock:
        matchers = _in_scope()
        spans = _merge([span for m in matchers for span in m.spans(text)]) if len(matchers) > 1 else matchers[0].spans(text) if matchers else []
    if spans:
        pieces, last = [], 0
        for start, end in spans:
            pieces += [text[last:start], MASK]
            last = end
        text = "".join(pieces) + text[last:]
    if _may_match_a_pattern(text):
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
