"""Bech32 against the BIP-173 test vectors, plus the age-specific use (no length limit, canonical case)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3safe.crypto import bech32

# BIP-173, "Test vectors": valid Bech32 strings
BIP173_VALID = [
    "A12UEL5L",
    "a12uel5l",
    "an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs",
    "abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw",
    "11" + "q" * 82 + "c8247j",  # 90 characters: the BIP-173 maximum
    "split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w",
    "?1ezyfcl",
]

# BIP-173, "Test vectors": invalid Bech32 strings (reason from the BIP)
BIP173_INVALID = [
    "\x201nwldj5",  # HRP character out of range
    "\x7f1axkwrx",  # HRP character out of range
    "\x801eym55h",  # HRP character out of range
    "an84characterslonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1569pvx",  # overall max length exceeded
    "pzry9x0s0muk",  # no separator character
    "1pzry9x0s0muk",  # empty HRP
    "x1b4n0q5v",  # invalid data character
    "li1dgmt3",  # too short checksum
    "de1lg7wt\xff",  # invalid character in checksum
    "A1G7SGD8",  # checksum calculated with uppercase form of HRP
    "10a06t8",  # empty HRP
    "1qzzfhee",  # empty HRP
]

# the identity the age test-vector suite (C2SP/CCTV, age/internal/testkit) uses for every X25519 vector
CCTV_IDENTITY = "AGE-SECRET-KEY-1EGTZVFFV20835NWYV6270LXYVK2VKNX2MMDKWYKLMGR48UAWX40Q2P2LM0"


@pytest.mark.parametrize("text", BIP173_VALID)
def test_bip173_valid_strings_verify(text: str) -> None:
    hrp, _words = bech32.decode_words(text)
    assert hrp == text[: text.rfind("1")].lower()


@pytest.mark.parametrize("text", BIP173_INVALID)
def test_bip173_invalid_strings_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="bech32"):
        bech32.decode_words(text)


def test_the_length_limit_is_optional_for_age() -> None:
    long = bech32.encode("age-secret-key-", bytes(60))
    assert len(long) > bech32.BIP173_MAX_LENGTH
    with pytest.raises(ValueError, match="too long"):
        bech32.decode(long)
    assert bech32.decode(long, max_length=None) == ("age-secret-key-", bytes(60))


def test_cctv_identity_decodes_to_32_bytes() -> None:
    hrp, data = bech32.decode(CCTV_IDENTITY, max_length=None)
    assert hrp == "age-secret-key-"
    assert len(data) == 32
    assert bech32.encode(hrp, data).upper() == CCTV_IDENTITY


def test_mixed_case_is_refused_and_errors_never_echo_the_input() -> None:
    mixed = CCTV_IDENTITY[:20] + CCTV_IDENTITY[20:].lower()
    with pytest.raises(ValueError, match="mixed case") as info:
        bech32.decode(mixed, max_length=None)
    assert CCTV_IDENTITY[16:40].lower() not in str(info.value).lower()


def test_single_character_errors_are_caught() -> None:
    good = bech32.encode("age", bytes(range(32)))
    for i in range(4, len(good)):
        for replacement in "qp":
            if good[i] == replacement:
                continue
            bad = good[:i] + replacement + good[i + 1 :]
            with pytest.raises(ValueError, match="bech32"):
                bech32.decode(bad, max_length=None)


def test_non_zero_padding_bits_are_refused() -> None:
    # 32 bytes = 256 bits -> 52 words with 4 padding bits; set one of them
    hrp, words = bech32.decode_words(bech32.encode("age", bytes(32)), max_length=None)
    words[-1] |= 1
    polymod = bech32._polymod([*bech32._hrp_expand(hrp), *words, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    text = hrp + "1" + "".join(bech32.CHARSET[w] for w in words + checksum)
    with pytest.raises(ValueError, match="padding"):
        bech32.decode(text, max_length=None)


@given(hrp=st.text(alphabet="abcdefghijklmnopqrstuvwxyz-", min_size=1, max_size=20), data=st.binary(max_size=64))
def test_round_trip(hrp: str, data: bytes) -> None:
    encoded = bech32.encode(hrp, data)
    assert bech32.decode(encoded, max_length=None) == (hrp, data)
    assert bech32.decode(encoded.upper(), max_length=None) == (hrp, data)
