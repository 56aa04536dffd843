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
        self._whole: set[str] = set()  # masked only where they stand alone (see `stands_alone`)
        self.comparisons = 0  # work done, for tests that prove the cost does not grow with the secrets

    def __len__(self) -> int:
        return len(self._all)

    def add(self, secret: str, *, whole_word: bool = False) -> None:
        if secret in self._all:
            if not whole_word:
                self._whole.discard(secret)  # registered both ways: masked everywhere wins
            return
        self._all.add(secret)
        if whole_word:
            self._whole.add(secret)
        bucket = self._by_head.setdefault(secret[:_MIN_SECRET_LEN], [])
        bucket.append(secret)
        bucket.sort(key=len, reverse=True)

    def clear(self) -> None:
        self._by_head.clear()
        self._all.clear()
        self._whole.clear()

    def _hit(self, text: str, secret: str, start: int) -> bool:
        return secret not in self._whole or stands_alone(text, start, start + len(secret))

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
                if self._hit(text, secret, start):
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
                if text.startswith(secret, i) and self._hit(text, secret, i):
                    found.append((i, i + len(secret)))
                    break
        return found


# What may stand next to a word that stands alone: the text's edges, white space, quotes, brackets, `,` and `;`.
# Not `/ - . _ = :`, which join the words of a name (`backups/backup-2026.sql`, `env=test/`).
_WORD_EDGES = frozenset(" \t\r\n\f\v'\"`()[]{}<>,;")


def stands_alone(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is a whole word, not part of a name."""
    return (start == 0 or text[start - 1] in _WORD_EDGES) and (end == len(text) or text[end] in _WORD_EDGES)


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
    # SigV2 headers: "Authorization: AWS ACCESSKEY:signature", any key id (MinIO/Ceph ones can be short words);
    # the signature is the base64 of an HMAC (28 characters for SHA-1, 44 for SHA-256)
    (re.compile(r"(?i)(\bAWS )[^\s:'\"]{1,128}:[A-Za-z0-9+/]{20,}={0,2}"), r"\1" + MASK),
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
    """Remember a secret s3safe made or was given in full (keys, tokens, identities): masked wherever it turns up."""
    _register(value, whole_word=False)


def _register(value: str | bytes | None, *, whole_word: bool) -> None:
    if value is None:
        return
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else value
    if len(text) < _MIN_SECRET_LEN:
        return
    with _lock:
        _matcher_of(current()).add(text, whole_word=whole_word)


# A secret a person chose (a passphrase; a secret key or token on MinIO or Ceph, where users pick them) can be a
# word people also use in names ("report", "backup"): masking every occurrence would garble keys and file names
# in output (and --json could no longer give them back), and the masked spots would show anyone reading the log
# which word the secret is. s3safe never prints one of these; masking it inside other text is a last net, kept
# everywhere for secrets long enough not to occur in names by chance, and for shorter ones only where the
# secret stands alone as a word (`stands_alone`), never inside a name.
PASSPHRASE_MASK_MIN = 12
CHOSEN_SECRET_MASK_MIN = PASSPHRASE_MASK_MIN
# The access key id is an identifier, not a secret (every signed request carries it in Credential=). The patterns
# mask it where it is named (Credential=, X-Amz-Credential=, AWSAccessKeyId); by value only an id of the AWS
# form (AKIA…, 16 characters or more) and only as a word of its own: a short id ("backup", "test") is a word.
KEY_ID_MASK_MIN = 16


def register_chosen_secret(value: str | None) -> None:
    """A secret a person may have chosen: masked everywhere at CHOSEN_SECRET_MASK_MIN characters, else as a word."""
    if value is not None:
        _register(value, whole_word=len(value) < CHOSEN_SECRET_MASK_MIN)


def register_passphrase(passphrase: str | None) -> None:
    """A user-chosen passphrase: the rule of `register_chosen_secret`."""
    register_chosen_secret(passphrase)


def register_key_id(key_id: str | None) -> None:
    """An access key id: masked by value only at KEY_ID_MASK_MIN characters and as a word of its own."""
    if key_id is not None and len(key_id) >= KEY_ID_MASK_MIN:
        _register(key_id, whole_word=True)


def register_credentials(key_id: str | None, secret_key: str | None, token: str | None) -> None:
    """An S3 key pair (and session token) as loaded from anywhere."""
    register_key_id(key_id)
    register_chosen_secret(secret_key)
    register_chosen_secret(token)


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
