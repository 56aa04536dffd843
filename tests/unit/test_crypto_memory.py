"""Constant memory: encrypting and decrypting 50 MiB keeps the Python heap peak at a few hundred KiB."""

from __future__ import annotations

import hashlib
import os
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from s3safe.crypto import aescrypt, age

SIZE = 50 * 1024 * 1024
LIMIT = 2 * 1024 * 1024  # measured: ~0.4 MiB for either format


class RandomSource:
    """50 MiB of random plaintext that never exists in memory as a whole."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.sha = hashlib.sha256()

    def read(self, n: int, /) -> bytes:
        data = os.urandom(min(n, self.left))
        self.left -= len(data)
        self.sha.update(data)
        return data


class HashSink:
    def __init__(self) -> None:
        self.sha = hashlib.sha256()
        self.size = 0

    def write(self, data: bytes, /) -> int:
        self.sha.update(data)
        self.size += len(data)
        return len(data)


def _peak(action: Callable[[], object]) -> int:
    tracemalloc.start()
    try:
        action()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


SECRET, RECIPIENT = age.generate_identity()

FORMATS: dict[str, tuple[Callable[..., None], Callable[..., object]]] = {
    "age": (
        lambda src, dst: age.encrypt_stream(src, dst, recipients=[RECIPIENT]),
        lambda src, dst: age.decrypt_stream(src, dst, identities=[SECRET]),
    ),
    "aescrypt": (
        lambda src, dst: aescrypt.encrypt_stream(src, dst, "memory test", iterations=1000),
        lambda src, dst: aescrypt.decrypt_stream(src, dst, "memory test"),
    ),
}


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_fifty_mib_in_constant_memory(fmt: str, tmp_path: Path) -> None:
    encrypt, decrypt = FORMATS[fmt]
    source = RandomSource(SIZE)
    encrypted = tmp_path / "big.enc"
    with encrypted.open("wb") as out:
        peak_encrypt = _peak(lambda: encrypt(source, out))
    sink = HashSink()
    with encrypted.open("rb") as src:
        peak_decrypt = _peak(lambda: decrypt(src, sink))
    assert sink.size == SIZE
    assert sink.sha.digest() == source.sha.digest()
    assert peak_encrypt < LIMIT, f"encrypt peak {peak_encrypt:,} bytes"
    assert peak_decrypt < LIMIT, f"decrypt peak {peak_decrypt:,} bytes"
