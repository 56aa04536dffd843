"""Bech32 (BIP-173) as age uses it for ``age1…`` recipients and ``AGE-SECRET-KEY-1…`` identities.

age uses the original Bech32 checksum (not Bech32m) and does not apply BIP-173's 90-character limit, so
`decode` takes the limit as a parameter. Errors are plain `ValueError`s whose text never repeats the input
(the input may be a secret key).
"""

from __future__ import annotations

CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_CHARSET_REV = {c: i for i, c in enumerate(CHARSET)}
_GENERATORS = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)
BIP173_MAX_LENGTH = 90


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = ((chk & 0x1FFFFFF) << 5) ^ value
        for i, gen in enumerate(_GENERATORS):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def _convert_bits(data: bytes | list[int], from_bits: int, to_bits: int, *, pad: bool) -> list[int]:
    acc = 0
    bits = 0
    out: list[int] = []
    maxv = (1 << to_bits) - 1
    for value in data:
        if value < 0 or value >> from_bits:
            raise ValueError("bech32: value out of range")
        acc = (acc << from_bits) | value
        bits += from_bits
        while bits >= to_bits:
            bits -= to_bits
            out.append((acc >> bits) & maxv)
    if pad:
        if bits:
            out.append((acc << (to_bits - bits)) & maxv)
    elif bits >= from_bits or ((acc << (to_bits - bits)) & maxv):
        raise ValueError("bech32: invalid padding in data part")
    return out


def encode(hrp: str, data: bytes) -> str:
    """Encode 8-bit `data` under `hrp` (lower case); the caller upper-cases the result if it wants to."""
    if not hrp or any(not 33 <= ord(c) <= 126 for c in hrp):
        raise ValueError("bech32: invalid human-readable part")
    hrp = hrp.lower()
    words = _convert_bits(data, 8, 5, pad=True)
    polymod = _polymod([*_hrp_expand(hrp), *words, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(CHARSET[w] for w in words + checksum)


def decode_words(text: str, *, max_length: int | None = BIP173_MAX_LENGTH) -> tuple[str, list[int]]:
    """Split and verify a Bech32 string; returns the lower-case HRP and the 5-bit data words (no checksum)."""
    if max_length is not None and len(text) > max_length:
        raise ValueError("bech32: string too long")
    if any(not 33 <= ord(c) <= 126 for c in text):
        raise ValueError("bech32: character out of range")
    if text.lower() != text and text.upper() != text:
        raise ValueError("bech32: mixed case")
    text = text.lower()
    sep = text.rfind("1")
    if sep < 1:
        raise ValueError("bech32: missing human-readable part or separator")
    if len(text) - sep - 1 < 6:
        raise ValueError("bech32: checksum too short")
    hrp, rest = text[:sep], text[sep + 1 :]
    try:
        words = [_CHARSET_REV[c] for c in rest]
    except KeyError:
        raise ValueError("bech32: invalid data character") from None
    if _polymod(_hrp_expand(hrp) + words) != 1:
        raise ValueError("bech32: checksum mismatch")
    return hrp, words[:-6]


def decode(text: str, *, max_length: int | None = BIP173_MAX_LENGTH) -> tuple[str, bytes]:
    """Decode to (lower-case HRP, 8-bit data)."""
    hrp, words = decode_words(text, max_length=max_length)
    return hrp, bytes(_convert_bits(words, 5, 8, pad=False))
