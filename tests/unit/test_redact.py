"""Secrets never reach anything a person or a log can read (DESIGN §3.4)."""

from __future__ import annotations

import io
import logging
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3safe.core import redact as redact_module
from s3safe.core.redact import MASK, RedactingFilter, forget_secrets, redact, register_secret

ACCESS_KEY = "AKIAIOSFODNN7EXAMPLE"
SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEHcaCXVzLWVhc3QtMSJHMEUCIQD+test/token+value=="


# --- secrets known by value -------------------------------------------------------------------------


def test_registered_secret_is_masked_everywhere() -> None:
    register_secret(SECRET_KEY)
    out = redact(f"key={SECRET_KEY} again {SECRET_KEY}!")
    assert SECRET_KEY not in out
    assert out.count(MASK) >= 2
    assert out.endswith("!")


def test_bytes_secret_is_registered_as_text() -> None:
    register_secret(b"correct horse battery staple")
    assert "correct horse" not in redact("the passphrase is correct horse battery staple.")


def test_nothing_is_masked_before_registration_and_after_forgetting() -> None:
    text = f"plain {SECRET_KEY}"
    assert redact(text) == text
    register_secret(SECRET_KEY)
    assert redact(text) != text
    forget_secrets()
    assert redact(text) == text


@pytest.mark.parametrize("value", [None, "", "a", "abc"])
def test_tiny_values_are_not_registered(value: str | None) -> None:
    """Masking every 'a' or 'abc' would destroy output without protecting anything."""
    register_secret(value)
    assert redact("a abc cab") == "a abc cab"


def test_longest_secret_wins_when_secrets_overlap() -> None:
    register_secret("abcd")
    register_secret("abcdefghij")
    out = redact("x abcdefghij y")
    assert "efghij" not in out
    assert "abcd" not in out


@settings(max_examples=200, deadline=None)
@given(
    secret=st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="*"), min_size=4, max_size=40),
    before=st.text(max_size=20),
    after=st.text(max_size=20),
)
def test_any_registered_secret_disappears(secret: str, before: str, after: str) -> None:
    forget_secrets()
    register_secret(secret)
    try:
        assert secret not in redact(before + secret + after)
    finally:
        forget_secrets()


# --- secrets known by shape -------------------------------------------------------------------------


def _presigned(signature_version: str, token: str | None) -> str:
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        aws_session_token=token,
        config=Config(signature_version=signature_version),
    )
    return str(client.generate_presigned_url("get_object", Params={"Bucket": "bucket", "Key": "dir/a.txt"}, ExpiresIn=900))


@pytest.fixture(scope="module")
def presigned_v4() -> str:
    return _presigned("s3v4", SESSION_TOKEN)


def test_presigned_v4_url_hides_signature_credential_and_token(presigned_v4: str) -> None:
    original = parse_qs(urlsplit(presigned_v4).query)
    signature = original["X-Amz-Signature"][0]
    assert len(signature) == 64
    out = redact(presigned_v4)
    assert signature not in out
    assert ACCESS_KEY not in out
    assert "IQoJb3JpZ2luX2VjEHcaCXVzLWVhc3QtMSJHMEUCIQD" not in out
    assert MASK in out
    assert out.startswith("https://bucket.s3.amazonaws.com/dir/a.txt?")


def test_presigned_v4_url_keeps_its_non_secret_parameters(presigned_v4: str) -> None:
    """Only the secret parts go (DESIGN §3.4): date, expiry and signed headers stay readable."""
    original = parse_qs(urlsplit(presigned_v4).query)
    out = redact(presigned_v4)
    masked = parse_qs(urlsplit(out).query)
    assert set(masked) == set(original)
    assert masked["X-Amz-Signature"] == [MASK]
    assert masked["X-Amz-Credential"] == [MASK]
    assert masked["X-Amz-Security-Token"] == [MASK]
    # everything that is not secret stays readable
    assert masked["X-Amz-Expires"] == ["900"]
    assert masked["X-Amz-Date"] == original["X-Amz-Date"]
    assert urlsplit(out).path == "/dir/a.txt"


def test_presigned_v2_url_hides_signature_and_access_key() -> None:
    url = _presigned("s3", None)
    original = parse_qs(urlsplit(url).query)
    assert "Signature" in original
    out = redact(url)
    assert ACCESS_KEY not in out
    assert original["Signature"][0] not in out
    assert parse_qs(urlsplit(out).query)["Expires"] == original["Expires"]


@settings(max_examples=100, deadline=None)
@given(
    signature=st.text(alphabet="0123456789abcdef", min_size=64, max_size=64),
    token=st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789%/+", min_size=20, max_size=80),
    upper=st.booleans(),
)
def test_any_presigned_query_is_masked(signature: str, token: str, upper: bool) -> None:
    name = "X-AMZ-SIGNATURE" if upper else "X-Amz-Signature"
    url = f"https://b.example/k?X-Amz-Security-Token={token}&X-Amz-Date=20240101T000000Z&{name}={signature}"
    out = redact(url)
    assert signature not in out
    assert token not in out


def test_masking_a_token_does_not_swallow_the_rest_of_the_query() -> None:
    url = "https://b.example/k?X-Amz-Security-Token=abcdefabcdefabcdef&X-Amz-Expires=900&X-Amz-Signature=" + "0" * 64
    assert redact(url) == f"https://b.example/k?X-Amz-Security-Token={MASK}&X-Amz-Expires=900&X-Amz-Signature={MASK}"


def test_masking_a_credential_does_not_swallow_the_rest_of_the_query() -> None:
    url = f"https://b.example/k?X-Amz-Credential={ACCESS_KEY}%2F20240101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Expires=900"
    assert redact(url) == f"https://b.example/k?X-Amz-Credential={MASK}&X-Amz-Expires=900"


def test_real_sigv4_authorization_header_is_masked() -> None:
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="GET", url="https://bucket.s3.amazonaws.com/key", headers={})
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY, SESSION_TOKEN), "s3", "us-east-1").add_auth(request)
    header = request.headers["Authorization"]
    signature = header.rsplit("Signature=", 1)[1]
    assert len(signature) == 64
    for text in (f"Authorization: {header}", repr(dict(request.headers)), str(request.headers)):
        out = redact(text)
        assert ACCESS_KEY not in out
        assert signature not in out
        assert "IQoJb3JpZ2luX2VjEHcaCXVzLWVhc3QtMSJHMEUCIQD" not in out
        assert "AWS4-HMAC-SHA256" in out
        assert "SignedHeaders=" in out


def test_written_authorization_header_is_masked() -> None:
    sig = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"
    header = (
        f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/20130524/us-east-1/s3/aws4_request, "
        f"SignedHeaders=host;range;x-amz-date, Signature={sig}"
    )
    out = redact(header)
    assert ACCESS_KEY not in out and sig not in out
    assert "20130524/us-east-1" not in out
    assert "SignedHeaders=host;range;x-amz-date" in out


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("{'SSECustomerKey': 'c2VjcmV0LWtleS0zMi1ieXRlcy1sb25nLWFhYWFhYWE='}", "c2VjcmV0LWtleS0zMi1ieXRlcy1sb25nLWFhYWFhYWE="),
        ('{"SSECustomerKey": "MDEyMzQ1Njc4OWFiY2RlZg=="}', "MDEyMzQ1Njc4OWFiY2RlZg=="),
        ("{'CopySourceSSECustomerKey': b'0123456789abcdef'}", "0123456789abcdef"),
        (f"{{'aws_secret_access_key': '{SECRET_KEY}', 'region': 'x'}}", SECRET_KEY),
        (f"{{'SecretAccessKey': '{SECRET_KEY}'}}", SECRET_KEY),
        (f"{{'SessionToken': '{SESSION_TOKEN}'}}", SESSION_TOKEN),
        (f"AWS_SECRET_ACCESS_KEY={SECRET_KEY}", SECRET_KEY),
        (f"AWS_SESSION_TOKEN={SESSION_TOKEN}", SESSION_TOKEN),
        ("x-amz-server-side-encryption-customer-key: Zm9vYmFyYmF6cXV4", "Zm9vYmFyYmF6cXV4"),
        (f"X-Amz-Security-Token: {SESSION_TOKEN}", SESSION_TOKEN),
        ("passphrase='hunter2-hunter2'", "hunter2-hunter2"),
        ("password: s3cr3t-value", "s3cr3t-value"),
    ],
)
def test_secrets_carried_by_name_are_masked(text: str, secret: str) -> None:
    out = redact(text)
    assert secret not in out
    assert MASK in out


def test_ssec_key_md5_stays_visible() -> None:
    """The MD5 of an SSE-C key is a checksum, not a secret: keep it for debugging."""
    out = redact("{'SSECustomerKeyMD5': 'bWQ1LW9mLXRoZS1rZXk='}")
    assert "bWQ1LW9mLXRoZS1rZXk=" in out


def test_ordinary_text_is_left_alone() -> None:
    text = "uploaded s3://bucket/dir/a.txt (12 bytes) with SSE AES256, ETag 9a0364b9e99bb480dd25e1f0284c8555"
    assert redact(text) == text


class _CountingPattern:
    def __init__(self, pattern: re.Pattern[str], calls: list[str]) -> None:
        self.pattern, self.calls = pattern, calls

    def sub(self, repl: str, text: str) -> str:
        self.calls.append(self.pattern.pattern)
        return self.pattern.sub(repl, text)


def test_a_line_without_any_trigger_word_skips_the_pattern_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    """A tree run prints a line per object: the eleven passes (about 100 µs a line) run only where one could match."""
    calls: list[str] = []
    monkeypatch.setattr(redact_module, "_PATTERNS", tuple((_CountingPattern(p, calls), r) for p, r in redact_module._PATTERNS))
    plain = "download /srv/restore/d000/f00123.bin (new; verified by sha256)"
    assert redact(plain) == plain and calls == []
    assert MASK in redact(f"{{'SessionToken': '{SESSION_TOKEN}'}}") and calls


# one text per pattern (and per name the named-secret pattern lists), each spelled with the letters that
# `re`'s IGNORECASE takes for ASCII ones (long s, Kelvin sign, dotted and dotless i): still masked
_LOOKALIKES = [
    "https://h/k?X-Amz-Signature=0123abcd", "https://h/k?X-Amz-Security-Token=tok0123", "https://h/k?X-Amz-Credential=AKIAX%2F2026",
    "https://h/k?Signature=0123abcd", "https://h/k?AWSAccessKeyId=AKIAEXAMPLE", "https://user:pw0123@h/",
    "Authorization: AWS4-HMAC-SHA256 Credential=AKIAX/2026", "Authorization: AWS AKIAIOSFODNN7EXAMPLE:c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmE=",
    "Signature=0123456789abcdef0123", "Signature:\n" + "ab" * 32,
    *(f"<{name}>value\n0123</{name}>" for name in ("SignatureProvided", "StringToSign", "StringToSignBytes",
      "CanonicalRequest", "CanonicalRequestBytes", "AWSAccessKeyId")),
    *(f"{{'{name}': 'value\\n0123'}}" for name in ("SignatureProvided", "StringToSign", "CanonicalRequest", "AWSAccessKeyId")),
    *(f"{name}: value0123" for name in ("x-amz-security-token", "x-amz-server-side-encryption-customer-key",
      "x-amz-copy-source-server-side-encryption-customer-key", "aws_secret_access_key", "aws_session_token",
      "secret_access_key", "session_token", "SSECustomerKey", "CopySourceSSECustomerKey", "SecretAccessKey",
      "SessionToken", "passphrase", "password")),
]  # fmt: skip


def test_what_a_signature_error_document_echoes_is_masked() -> None:
    """SignatureDoesNotMatch's document (and botocore's dict of it) repeats the signature, what was signed and the
    access key; --debug showed them (issue #19, outside tester's item 10)."""
    document = ("<Error><Code>SignatureDoesNotMatch</Code><AWSAccessKeyId>AKIAIOSFODNN7EXAMPLE</AWSAccessKeyId>"
                "<StringToSign>AWS4-HMAC-SHA256\n20260101T000000Z\nscope\nabc</StringToSign><SignatureProvided>"
                "0123abcd</SignatureProvided><StringToSignBytes>41 57 53</StringToSignBytes><CanonicalRequest>GET\n/b/k"
                "\n</CanonicalRequest><CanonicalRequestBytes>47 45</CanonicalRequestBytes><RequestId>r1</RequestId></Error>")  # fmt: skip
    out = redact(document)
    assert out == ("<Error><Code>SignatureDoesNotMatch</Code><AWSAccessKeyId>****</AWSAccessKeyId><StringToSign>****"
                   "</StringToSign><SignatureProvided>****</SignatureProvided><StringToSignBytes>****</StringToSignBytes>"
                   "<CanonicalRequest>****</CanonicalRequest><CanonicalRequestBytes>****</CanonicalRequestBytes>"
                   "<RequestId>r1</RequestId></Error>")  # fmt: skip
    parsed = redact("{'Code': 'SignatureDoesNotMatch', 'StringToSign': 'AWS4\\nx', 'SignatureProvided': '0123abcd'}")
    assert parsed == "{'Code': 'SignatureDoesNotMatch', 'StringToSign': '****', 'SignatureProvided': '****'}"


@pytest.mark.parametrize("text", _LOOKALIKES)
def test_every_pattern_still_runs_where_it_can_match(text: str) -> None:
    assert len(redact_module._PATTERNS) == 13, "a new pattern needs its word in _TRIGGERS and a text here"
    for variant in (text, text.replace("s", "\u017f"), text.replace("k", "\u212a").replace("K", "\u212a"),
                    text.replace("i", "\u0131"), text.replace("I", "\u0130")):  # fmt: skip
        expected = variant
        for pattern, repl in redact_module._PATTERNS:
            expected = pattern.sub(repl, expected)
        assert redact(variant) == expected


def test_the_ascii_lookalikes_are_all_the_letters_ignorecase_folds_to_ascii() -> None:
    letter = re.compile("(?i)[a-z]")
    found = {chr(c) for c in range(128, sys.maxunicode + 1) if letter.match(chr(c))}
    assert found == {"\u0130", "\u0131", "\u017f", "\u212a"}


# --- logging ----------------------------------------------------------------------------------------


@pytest.fixture
def log_stream() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(RedactingFilter())
    logger = logging.getLogger("s3safe.unit-test-redact")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(handler)
    try:
        yield logger, stream
    finally:
        logger.removeHandler(handler)


def test_filter_masks_args_formatted_messages(log_stream: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log_stream
    register_secret(SECRET_KEY)
    logger.info("using key %s for %s", SECRET_KEY, "s3://bucket")
    logger.debug("params %r", {"SSECustomerKey": "c2VjcmV0LWtleS1ieXRlcw=="})
    out = stream.getvalue()
    assert SECRET_KEY not in out
    assert "c2VjcmV0LWtleS1ieXRlcw==" not in out
    assert "using key" in out and "s3://bucket" in out
    assert len(out.splitlines()) == 2


def test_filter_masks_exception_text(log_stream: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log_stream
    passphrase = "my very secret passphrase 42"
    register_secret(passphrase)
    try:
        raise ValueError(f"could not decrypt with {passphrase!r}")
    except ValueError:
        logger.exception("decrypt failed")
    out = stream.getvalue()
    assert passphrase not in out
    assert "decrypt failed" in out
    assert "ValueError" in out and "Traceback" in out


def test_filter_masks_exception_text_with_a_shape_secret(log_stream: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log_stream
    sig = "a" * 64
    try:
        raise RuntimeError(f"GET https://b.example/k?X-Amz-Signature={sig} failed")
    except RuntimeError:
        logger.error("request failed", exc_info=True)
    assert sig not in stream.getvalue()


def test_filter_survives_a_broken_format_string(log_stream: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log_stream
    register_secret(SECRET_KEY)
    logger.warning(f"{SECRET_KEY} %d", "not a number")
    out = stream.getvalue()
    assert out.startswith("WARNING ")
    assert SECRET_KEY not in out


def test_filter_keeps_percent_signs_in_already_formatted_messages(log_stream: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = log_stream
    logger.info("progress %s", "50%d done %s")
    assert stream.getvalue() == "INFO progress 50%d done %s\n"


def test_every_handler_record_passes_the_filter() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "key %s", (SECRET_KEY,), None)
    register_secret(SECRET_KEY)
    assert RedactingFilter().filter(record) is True
    assert SECRET_KEY not in record.getMessage()


# --- cost: linear in the output, not in the number of secrets (issue 15.11) ----------------------------


def _random_secrets(count: int) -> list[str]:
    import secrets as _secrets

    return [_secrets.token_hex(32) for _ in range(count)]


def test_redaction_work_does_not_grow_with_the_number_of_secrets() -> None:
    """Each AES Crypt file registers a secret: 20,000 of them must not make every output line 20,000 checks."""
    from s3safe.core import redact as module

    lines = [f"upload /data/file-{i:05d}.bin -> s3://bucket/backup/file-{i:05d}.bin.aes  [4096 bytes]" for i in range(500)]
    chars = sum(len(line) for line in lines)
    known = _random_secrets(20_000)
    for value in known:
        register_secret(value)
    before = module._matcher.comparisons
    for line in lines:
        assert redact(line) == line
    # a comparison happens only where a secret's first characters occur: bounded by the text, not the secrets
    assert module._matcher.comparisons - before <= chars // 10
    leaked = f"error near {known[12_345]} and {known[7]}."
    assert redact(leaked) == f"error near {MASK} and {MASK}."


def test_many_secrets_are_still_masked_everywhere_and_overlaps_merge() -> None:
    known = _random_secrets(100)  # past the small-set shortcut
    for value in known:
        register_secret(value)
    register_secret("abcdefgh")
    register_secret("efghijkl")
    assert redact("x abcdefghijkl y") == f"x {MASK} y"
    text = "".join(f"[{value}]" for value in known[::7])
    out = redact(text)
    assert not any(value in out for value in known)
    assert out.count(MASK) == len(known[::7])


def test_a_short_passphrase_is_not_masked_inside_names() -> None:
    """Found by an outside tester: with the passphrase "report", `quarterly-report.txt` was shown as
    `quarterly-****.txt` (in --json too), which garbled names and told any log reader the passphrase."""
    from s3safe.core.redact import PASSPHRASE_MASK_MIN, register_passphrase

    forget_secrets()
    try:
        register_passphrase("report")
        assert redact("upload s3://b/quarterly-report.txt") == "upload s3://b/quarterly-report.txt"
        long_one = "correct horse battery staple"
        assert len(long_one) >= PASSPHRASE_MASK_MIN
        register_passphrase(long_one)
        assert redact(f"echo {long_one}") == f"echo {MASK}"
    finally:
        forget_secrets()


def test_a_short_passphrase_loaded_from_a_file_does_not_garble_output(tmp_path: Path) -> None:
    from s3safe.crypto import keys

    forget_secrets()
    try:
        (tmp_path / "pw").write_text("report\n")
        assert keys.resolve_passphrase(passphrase_file=str(tmp_path / "pw")) == "report"
        assert redact("out/quarterly-report.txt") == "out/quarterly-report.txt"
    finally:
        forget_secrets()


# --- chosen secrets and the access key id (outside tester, finding 2 of round 17) ------------------------


def test_a_short_access_key_id_is_not_masked_inside_names() -> None:
    """MinIO and Ceph let users pick the key id: with `backup`, `s3://backup-bucket/backups/backup-2026.sql` came
    out as `s3://****-bucket/****s/****-2026.sql` (--json too), and with `test`, `latest` as `la****`."""
    from s3safe.core.redact import register_credentials

    forget_secrets()
    try:
        register_credentials("backup", "backupsecret1", None)
        register_credentials("test", "testsecret", None)
        for text in ("s3://backup-bucket/backups/backup-2026.sql", "k  v1  latest", "backup", "test", "'test'"):
            assert redact(text) == text
        # where a request names it, it is still masked
        header = "AWS4-HMAC-SHA256 Credential=backup/20260101/us-east-1/s3/aws4_request, SignedHeaders=host"
        assert "backup" not in redact(header)
        assert redact("<AWSAccessKeyId>backup</AWSAccessKeyId>") == f"<AWSAccessKeyId>{MASK}</AWSAccessKeyId>"
        assert "backup" not in redact("Authorization: AWS backup:" + "A" * 27 + "=")
    finally:
        forget_secrets()


def test_an_aws_form_key_id_is_masked_as_a_word_but_not_inside_a_name() -> None:
    from s3safe.core.redact import register_credentials

    forget_secrets()
    try:
        register_credentials(ACCESS_KEY, SECRET_KEY, None)
        assert redact(f"Credentials('{ACCESS_KEY}') key id {ACCESS_KEY}") == f"Credentials('{MASK}') key id {MASK}"
        assert redact(f"s3://b/{ACCESS_KEY}-notes.txt") == f"s3://b/{ACCESS_KEY}-notes.txt"
    finally:
        forget_secrets()


def test_a_chosen_secret_follows_the_passphrase_rule() -> None:
    """Secret key and session token: masked everywhere from 12 characters on, like a passphrase; a shorter one
    only where it stands alone as a word (as a short passphrase now is), never inside a name."""
    from s3safe.core.redact import CHOSEN_SECRET_MASK_MIN, PASSPHRASE_MASK_MIN, register_credentials, register_passphrase

    assert CHOSEN_SECRET_MASK_MIN == PASSPHRASE_MASK_MIN
    forget_secrets()
    try:
        register_credentials("backup", "backupsecret1", "tok-short")
        register_passphrase("report")
        assert redact("s3://b/x-backupsecret1.txt") == f"s3://b/x-{MASK}.txt"
        for name in ("s3://b/tok-short.txt", "quarterly-report.txt", "env=report/a"):
            assert redact(name) == name
        assert redact("token 'tok-short' and passphrase report") == f"token '{MASK}' and passphrase {MASK}"
    finally:
        forget_secrets()


def test_a_secret_registered_in_full_wins_over_the_same_one_as_a_word() -> None:
    from s3safe.core.redact import register_passphrase

    forget_secrets()
    try:
        register_passphrase("report")
        register_secret("report")
        assert redact("quarterly-report.txt") == f"quarterly-{MASK}.txt"
    finally:
        forget_secrets()


def test_the_word_rule_holds_past_the_small_set_shortcut() -> None:
    from s3safe.core.redact import register_passphrase

    forget_secrets()
    try:
        for value in _random_secrets(40):
            register_secret(value)
        register_passphrase("report")
        assert redact("quarterly-report.txt") == "quarterly-report.txt"
        assert redact("passphrase report.") == "passphrase report."
        assert redact("passphrase (report)") == f"passphrase ({MASK})"
    finally:
        forget_secrets()
