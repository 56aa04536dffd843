"""The failure half of the age edge-case vectors (see test_crypto_age_vectors.py for the framework and the test)."""

from __future__ import annotations

import base64
from collections.abc import Callable

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from tests.unit.test_crypto_age_vectors import (
    CHUNK,
    LARGE_FILE_KEY,
    LARGE_NONCE,
    TEST_IDENTITY_BYTES,
    VECTORS,
    Vector,
    _b64,
    _failure,
    _not_canonical,
    _standard,
)

# -- failures ------------------------------------------------------------------------------------------


@_failure("x25519_identity_mismatch", "no match")
def _no_match(v: Vector) -> None:
    v.version_line()
    v.x25519_record_identity(TEST_IDENTITY_BYTES)
    v.x25519_no_record_identity(v.rand(32))
    v.hmac()
    v.payload_text("age")


@_failure("x25519_low_order", "header failure")
def _low_order(v: Vector) -> None:
    v.version_line()
    v.x25519_record_identity(TEST_IDENTITY_BYTES)
    share = bytes.fromhex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7")  # order 8
    v.x25519_stanza(share, TEST_IDENTITY_BYTES)
    v.hmac()
    v.payload_text("age")


@_failure("x25519_short_share", "header failure")
def _short_share(v: Vector) -> None:
    v.version_line()
    v.x25519_record_identity(TEST_IDENTITY_BYTES)
    v.args_line("X25519", _b64(bytes(31)))
    v.body(bytes(32))
    v.hmac()
    v.payload_text("age")


@_failure("x25519_extra_argument", "header failure")
def _x_extra(v: Vector) -> None:
    v.version_line()
    v.x25519()
    body = v.unread_line()
    v.text_line(v.unread_line() + " 1234")
    v.text_line(body)
    v.hmac()
    v.payload_text("age")


@_failure("x25519_bad_tag", "no match")
def _x_bad_tag(v: Vector) -> None:
    v.version_line()
    v.x25519()
    line = v.unread_line()
    v.text_line(_b64(bytes(b ^ (i == 5) for i, b in enumerate(base64.b64decode(line + "=")))))
    v.hmac()
    v.payload_text("age")


@_failure("hmac_bad", "HMAC failure")
def _hmac_bad(v: Vector) -> None:
    v.version_line()
    v.x25519()
    v.text_line("--- " + _b64(bytes(32)))
    v.payload_text("age")


for _name, _mangle in {
    "hmac_not_canonical": lambda line: _not_canonical(line),
    "hmac_extra_space": lambda line: line.replace("--- ", "---  "),
    "hmac_trailing_space": lambda line: line + " ",
    "hmac_no_space": lambda line: line.replace("--- ", "---"),
    "hmac_truncated": lambda line: line[:-1],
    "hmac_missing": lambda line: "---",
    "hmac_garbage": lambda line: line + "AAAA",
}.items():

    def _hmac_mangled(v: Vector, mangle: Callable[[str], str] = _mangle) -> None:
        v.version_line()
        v.x25519()
        v.hmac()
        v.text_line(mangle(v.unread_line()))
        v.payload_text("age")

    _failure(_name, "header failure")(_hmac_mangled)


@_failure("header_crlf", "header failure")
def _crlf(v: Vector) -> None:
    v.version_line()
    v.buf = bytearray(bytes(v.buf).replace(b"\n", b"\r\n"))
    v.x25519()
    v.hmac()
    v.payload_text("age")


@_failure("version_unsupported", "header failure")
def _version(v: Vector) -> None:
    v.version_line("v1234")
    v.x25519()
    v.hmac()
    v.payload_text("age")


@_failure("stanza_missing_final_line", "header failure")
def _missing_final(v: Vector) -> None:
    v.version_line()
    v.x25519()
    v.args_line("stanza")
    v.text_line("A" * 64)
    v.hmac()
    v.payload_text("age")


@_failure("stanza_long_line", "header failure")
def _long_line(v: Vector) -> None:
    v.version_line()
    v.x25519()
    v.args_line("stanza")
    v.text_line("A" * 68)
    v.hmac()
    v.payload_text("age")


@_failure("stanza_base64_padding", "header failure")
def _padding(v: Vector) -> None:
    v.version_line()
    v.x25519()
    v.args_line("stanza")
    v.text_line(_b64(b"ab") + "=")
    v.hmac()
    v.payload_text("age")


@_failure("stanza_not_canonical", "header failure")
def _stanza_nc(v: Vector) -> None:
    v.version_line()
    v.x25519()
    v.args_line("stanza")
    v.text_line(_not_canonical(_b64(b"ab")))
    v.hmac()
    v.payload_text("age")


@_failure("stanza_empty_argument", "header failure")
def _empty_arg(v: Vector) -> None:
    v.version_line()
    v.x25519()
    v.args_line("stanza", "", "arg")
    v.body(b"")
    v.hmac()
    v.payload_text("age")


@_failure("stanza_no_arguments", "header failure")
def _no_args(v: Vector) -> None:
    v.version_line()
    v.x25519()
    v.text_line("->")
    v.body(b"")
    v.hmac()
    v.payload_text("age")


@_failure("stanza_bad_start", "header failure")
def _bad_start(v: Vector) -> None:
    v.version_line()
    v.text_line("-- X25519 " + _b64(bytes(32)))
    v.body(bytes(32))
    v.x25519()
    v.hmac()
    v.payload_text("age")


@_failure("stanza_spurious_cr", "header failure")
def _spurious_cr(v: Vector) -> None:
    v.version_line()
    v.x25519()
    v.text_line(v.unread_line() + "\r")
    v.hmac()
    v.payload_text("age")


@_failure("stanza_missing_body", "header failure")
def _missing_body(v: Vector) -> None:
    v.version_line()
    v.x25519()
    v.unread_line()
    v.hmac()
    v.payload_text("age")


@_failure("scrypt_and_x25519", "header failure")
def _scrypt_x(v: Vector) -> None:
    v.version_line()
    v.x25519_no_record_identity(TEST_IDENTITY_BYTES)
    v.scrypt("password", 10)
    v.hmac()
    v.payload_text("age")


@_failure("scrypt_double", "header failure")
def _scrypt_double(v: Vector) -> None:
    v.version_line()
    v.scrypt("password", 10)
    v.scrypt("password", 10, record=False)
    v.hmac()
    v.payload_text("age")


@_failure("scrypt_wrong_passphrase", "no match")
def _scrypt_wrong(v: Vector) -> None:
    v.version_line()
    v.passphrases.append("wrong password")
    v.scrypt("password", 10, record=False)
    v.hmac()
    v.payload_text("age")


@_failure("scrypt_work_factor_23", "header failure")
def _scrypt_23(v: Vector) -> None:
    v.version_line()
    v.passphrases.append("password")
    v.args_line("scrypt", _b64(v.rand(16)), "23")
    v.body(bytes(32))
    v.hmac()
    v.payload_text("age")


for _name, _wf in {
    "scrypt_work_factor_leading_zero": "010",
    "scrypt_work_factor_leading_plus": "+10",
    "scrypt_work_factor_hex": "0xa",
    "scrypt_work_factor_zero": "0",
    "scrypt_work_factor_negative": "-10",
    "scrypt_work_factor_overflow": "99999999999999999999",
}.items():

    def _scrypt_bad_wf(v: Vector, wf: str = _wf) -> None:
        v.version_line()
        v.passphrases.append("password")
        v.args_line("scrypt", _b64(v.rand(16)), wf)
        v.body(bytes(32))
        v.hmac()
        v.payload_text("age")

    _failure(_name, "header failure")(_scrypt_bad_wf)


@_failure("scrypt_salt_short", "header failure")
def _salt_short(v: Vector) -> None:
    v.version_line()
    v.passphrases.append("password")
    v.args_line("scrypt", _b64(v.rand(15)), "10")
    v.body(bytes(32))
    v.hmac()
    v.payload_text("age")


@_failure("scrypt_long_file_key", "header failure")
def _long_key(v: Vector) -> None:
    v.version_line()
    v.passphrases.append("password")
    salt = v.rand(16)
    v.args_line("scrypt", _b64(salt), "10")
    key = Scrypt(salt=b"age-encryption.org/v1/scrypt" + salt, length=32, n=1 << 10, r=8, p=1).derive(b"password")
    v.aead_body(key, v.file_key + b"ZZZZ")
    v.hmac()
    v.payload_text("age")


@_failure("stream_bad_tag", "payload failure")
def _bad_tag(v: Vector) -> None:
    _standard(v)
    v.buf[-1] ^= 0x01
    v.payload.clear()


@_failure("stream_no_chunks", "payload failure")
def _no_chunks(v: Vector) -> None:
    v.version_line()
    v.x25519()
    v.hmac()
    v.nonce()


@_failure("stream_missing_tag", "payload failure")
def _missing_tag(v: Vector) -> None:
    _standard(v, "")
    del v.buf[-4:]
    v.payload.clear()


@_failure("stream_last_chunk_empty", "payload failure")
def _last_empty(v: Vector) -> None:
    _three_like(v, [bytes(CHUNK)], b"")
    v.expect_partial(CHUNK)


@_failure("stream_no_final", "payload failure")
def _no_final(v: Vector) -> None:
    _three_like(v, [bytes(CHUNK)], None)
    v.expect_partial(0)  # s3safe holds a full chunk back until it knows whether it is the last


@_failure("stream_two_final_chunks", "payload failure")
def _two_final(v: Vector) -> None:
    _three_like(v, [], b"\x01" * 100)
    v.chunk(b"\x02" * 100, final=True)
    v.expect_partial(0)


@_failure("stream_trailing_garbage", "payload failure")
def _trailing(v: Vector) -> None:
    _three_like(v, [bytes(CHUNK)], b"\x01" * 100)
    v.buf += b"\x00" * 20
    v.expect_partial(CHUNK)


@_failure("stream_chunks_swapped", "payload failure")
def _swapped(v: Vector) -> None:
    _three_like(v, [bytes(CHUNK), b"\x01" * CHUNK], b"\x02" * 10)
    start = len(v.buf) - (10 + 16) - 2 * (CHUNK + 16)
    first, second = v.buf[start : start + CHUNK + 16], v.buf[start + CHUNK + 16 : start + 2 * (CHUNK + 16)]
    v.buf[start : start + 2 * (CHUNK + 16)] = second + first
    v.expect_partial(0)


def _three_like(v: Vector, full: list[bytes], final: bytes | None) -> None:
    v.file_key = LARGE_FILE_KEY
    v.version_line()
    v.x25519()
    v.hmac()
    v.nonce(LARGE_NONCE)
    for chunk in full:
        v.chunk(chunk)
    if final is not None:
        v.chunk(final, final=True)


for _name, _mangle_armor in {
    "armor_no_padding": lambda v: v.armor(padding=False),
    "armor_long_line": lambda v: v.armor(columns=68),
    "armor_short_line": lambda v: v.armor(columns=60),
    "armor_garbage_trailing": lambda v: (v.armor(), v.buf.extend(b"garbage\n")),
    "armor_lowercase": lambda v: (v.armor(), v.buf.__setitem__(slice(0, 34), v.buf[:34].lower())),
    "armor_no_end_line": lambda v: (v.armor(), v.buf.__delitem__(slice(-33, None))),
    "armor_headers": lambda v: (v.armor(), v.buf.__setitem__(slice(35, 35), b"Comment: hi\n\n")),
    "armor_invalid_character": lambda v: (v.armor(), v.buf.__setitem__(40, ord("*"))),
}.items():

    def _armor_bad(v: Vector, mangle: Callable[[Vector], object] = _mangle_armor) -> None:
        _standard(v)
        mangle(v)

    _failure(_name, "armor failure")(_armor_bad)


# -- issue 20.5: the three C2SP/CCTV vectors s3safe disagreed with, and the bare empty file ---------------


@_failure("armor_empty_last_line", "armor failure")
def _armor_empty_last_line(v: Vector) -> None:
    """A full last armor line followed by an empty one before END: age >= 1.3 refuses it."""
    _standard(v, "age age age age age age age age age age ")
    assert len(v.buf) % 48 == 0, "the last armor line must be full"
    v.armor()
    end = bytes(v.buf).rindex(b"-----END")
    v.buf[end:end] = b"\n"


@_failure("armor_empty", "header failure")
def _armor_empty(v: Vector) -> None:
    """BEGIN and END and nothing between: a header failure, whatever keys the reader holds (here: none)."""
    v.buf += b"-----BEGIN AGE ENCRYPTED FILE-----\n-----END AGE ENCRYPTED FILE-----\n"
    v.armored = True


@_failure("empty", "header failure")
def _empty_file(v: Vector) -> None:
    """Zero bytes, and no keys at all."""


@_failure("scrypt_uppercase", "no match")
def _scrypt_uppercase(v: Vector) -> None:
    """Stanza types are case-sensitive: "Scrypt" is an unknown stanza the passphrase does not match."""
    v.version_line()
    v.scrypt("password", 10)
    body, args = v.unread_line(), v.unread_line().split(" ")
    v.args_line("Scrypt", args[2], args[3])
    v.text_line(body)
    v.hmac()
    v.payload_text("age")


def test_an_unknown_case_stanza_is_no_match_not_a_missing_identity() -> None:
    import io

    import pytest

    from s3safe.core.errors import AccessDeniedError
    from s3safe.crypto import age
    from tests.unit.test_crypto_age_vectors import build

    with pytest.raises(AccessDeniedError, match=r"^no identity matched") as caught:
        age.decrypt_stream(io.BytesIO(bytes(build("scrypt_uppercase").buf)), io.BytesIO(), passphrase="password")
    assert "is needed" not in str(caught.value)


def test_every_failure_vector_expects_a_failure() -> None:
    from tests.unit.test_crypto_age_vectors import build

    failures = [name for name in VECTORS if build(name).expect != "success"]
    assert len(failures) >= 40
