"""The data sets (random, incompressible bytes) and how to check that a copy of one is complete."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

KIB = 1024
MIB = 1024 * KIB
GIB = 1024 * MIB
FIXED_MTIME = 1_704_067_200  # 2024-01-01T00:00:00Z: older than any upload, so mtime-based syncs skip cleanly
CHUNK = 8 * MIB


@dataclass
class Dataset:
    name: str  # small | medium | large | many
    root: Path
    count: int
    size: int  # bytes per file
    files: dict[str, tuple[int, str]] = field(default_factory=dict)  # relative posix path -> (size, sha256 hex)

    @property
    def total_bytes(self) -> int:
        return self.count * self.size

    def describe(self) -> str:
        return f"{self.count:,} × {human_size(self.size)}"


def human_size(size: int) -> str:
    for unit, scale in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if size >= scale:
            value = size / scale
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{size} B"


def _write_random(path: Path, size: int) -> str:
    digest = hashlib.sha256()
    with path.open("wb") as handle:
        left = size
        while left:
            block = os.urandom(min(CHUNK, left))
            handle.write(block)
            digest.update(block)
            left -= len(block)
    os.utime(path, (FIXED_MTIME, FIXED_MTIME))
    return digest.hexdigest()


def generate(root: Path, name: str, count: int, size: int, *, per_folder: int = 0) -> Dataset:
    """`count` files of `size` random bytes under root/name (flat, or in folders of `per_folder`)."""
    base = root / name
    base.mkdir(parents=True, exist_ok=True)
    dataset = Dataset(name, base, count, size)
    width = max(5, len(str(count)))
    for index in range(count):
        rel = f"f{index:0{width}d}.bin"
        if per_folder:
            rel = f"d{index // per_folder:04d}/{rel}"
            (base / rel).parent.mkdir(exist_ok=True)
        dataset.files[rel] = (size, _write_random(base / rel, size))
    return dataset


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def local_problems(dataset: Dataset, dest: Path, *, check_content: bool = True) -> list[str]:
    """What is wrong with a downloaded copy of `dataset` in `dest` ([] when it is byte-identical)."""
    problems: list[str] = []
    found: dict[str, int] = {}
    for path in dest.rglob("*"):
        if path.is_file():
            found[path.relative_to(dest).as_posix()] = path.stat().st_size
    missing = sorted(set(dataset.files) - set(found))
    extra = sorted(set(found) - set(dataset.files))
    if missing:
        problems.append(f"{len(missing)} of {dataset.count} files missing (e.g. {missing[0]})")
    if extra:
        problems.append(f"{len(extra)} unexpected files (e.g. {extra[0]})")
    wrong_size = [rel for rel, size in found.items() if rel in dataset.files and dataset.files[rel][0] != size]
    if wrong_size:
        problems.append(f"{len(wrong_size)} files with the wrong size (e.g. {wrong_size[0]})")
    if check_content and not problems:
        bad = [rel for rel, (_, digest) in dataset.files.items() if sha256_file(dest / rel) != digest]
        if bad:
            problems.append(f"{len(bad)} files differ in content (e.g. {bad[0]})")
    return problems
