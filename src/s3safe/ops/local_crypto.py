"""Local files: `keygen`, `encrypt`, `decrypt` (age and AES Crypt, including S3Express `-le` .aes files).

Outputs appear only complete and verified (temp file + rename, mode 0600); an existing output is replaced
only when the caller allows it. Keys arrive as callables so that a prompt shows only when one is needed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from s3safe.core.errors import AccessDeniedError, IntegrityError, NotFoundError, UsageError
from s3safe.core.models import ActionResult

SUFFIXES = {"age": ".age", "aescrypt": ".aes"}


@dataclass(frozen=True, slots=True)
class KeyPair:
    path: Path
    recipient: str
    protected: bool

    def to_dict(self) -> dict[str, object]:
        return {"type": "keygen", "identity_file": str(self.path), "recipient": self.recipient, "protected": self.protected}


def default_identity_path() -> Path:
    from s3safe.crypto.keys import default_identity_path as path

    return path()


def keygen(
    path: Path | None, *, passphrase: Callable[[], str] | None = None, overwrite: bool = False, post_quantum: bool = False
) -> KeyPair:
    """A new age identity in a 0600 file (age-encrypted with a passphrase when one is given); `post_quantum`:
    the ML-KEM-768 + X25519 hybrid of age 1.3 instead of X25519."""
    from s3safe.crypto import keys

    target = path or default_identity_path()
    if target.exists() and not overwrite:
        raise UsageError(f"identity file already exists: {target}", hint="choose another path with -o, or add --force")
    secret = passphrase() if passphrase else None
    recipient = keys.write_identity_file(target, passphrase=secret, overwrite=overwrite, post_quantum=post_quantum)
    return KeyPair(target, recipient, protected=secret is not None)


def _output_for(source: Path, output: Path | None, *, count: int, suffix: str | None) -> Path:
    """Where one input's result goes: -o FILE (one input) or -o DIR, else beside the input."""
    if output is not None and output.is_dir():
        base = output / source.name
    elif output is not None:
        if count > 1:
            raise UsageError("-o must be an existing folder when there are several inputs")
        return output
    else:
        base = source
    if suffix is not None:
        return base.with_name(base.name + suffix)
    for known in SUFFIXES.values():
        if base.name.lower().endswith(known) and len(base.name) > len(known):
            return base.with_name(base.name[: -len(known)])
    raise UsageError(f"cannot tell the output name for {source} (no .age or .aes suffix)", hint="give it with -o FILE")


def _check_paths(source: Path, target: Path, *, overwrite: bool) -> None:
    if not source.is_file():
        raise NotFoundError(f"input file not found: {source}")
    if target.exists() and not overwrite:
        raise UsageError(f"{target} already exists", hint="add --force to replace it, or choose another path with -o")


def encrypt_files(
    sources: Sequence[Path], *, fmt: str, recipients: Sequence[str] = (), passphrase: Callable[[], str] | None = None,
    output: Path | None = None, armor: bool = False, overwrite: bool = False,
) -> Iterator[ActionResult]:  # fmt: skip
    """Encrypt each file to `<name>.age` / `<name>.aes` (or as -o says); recipients win over a passphrase."""
    from s3safe.crypto import aescrypt, age

    if fmt not in SUFFIXES:
        raise UsageError(f"unknown format {fmt!r}", hint="age or aescrypt")
    if recipients and fmt != "age":
        raise UsageError("recipients are for age; AES Crypt uses a passphrase")
    if armor and fmt != "age":
        raise UsageError("--armor applies to age only")
    targets = [(s, _output_for(s, output, count=len(sources), suffix=SUFFIXES[fmt])) for s in sources]
    for source, target in targets:
        _check_paths(source, target, overwrite=overwrite)
    secret = None if recipients else _need(passphrase, "a passphrase")
    for source, target in targets:
        if fmt == "aescrypt":
            assert secret is not None
            aescrypt.encrypt_file(source, target, secret)
        else:
            age.encrypt_file(source, target, recipients=list(recipients) or None, passphrase=secret, armor=armor)
        yield ActionResult("encrypt", str(target), detail=f"{fmt}, from {source}")


def decrypt_files(
    sources: Sequence[Path], *, identities: Callable[[], Sequence[str]] | None = None,
    passphrase: Callable[[], str] | None = None, output: Path | None = None, overwrite: bool = False,
    max_work_factor: int | None = None,
) -> Iterator[ActionResult]:  # fmt: skip
    """Decrypt each file, its format (age, AES Crypt v0–v3) read from its header; stops at the first failure.
    `max_work_factor`: the highest scrypt cost an age passphrase file may ask for (default: the age CLI's 22)."""
    from s3safe.crypto import age

    limit = age.MAX_WORK_FACTOR if max_work_factor is None else max_work_factor
    if not 1 <= limit <= age.MAX_WORK_FACTOR:
        raise UsageError(f"--max-work-factor must be between 1 and {age.MAX_WORK_FACTOR}")
    from s3safe.crypto.digest import detect_format

    targets = [(s, _output_for(s, output, count=len(sources), suffix=None)) for s in sources]
    for source, target in targets:
        _check_paths(source, target, overwrite=overwrite)
    for source, target in targets:
        with source.open("rb") as handle:
            fmt = detect_format(handle.read(64))
        if fmt is None:
            # a damaged header looks like no format at all: the same verdict as any other damage
            raise IntegrityError(f"{source} is not a readable age or AES Crypt file (damaged, or never encrypted)")
        try:
            _decrypt_one(source, target, fmt, passphrase=passphrase, identities=identities, limit=limit)
        except AccessDeniedError as exc:  # "wrong passphrase for this age file": which file, among several
            raise AccessDeniedError(f"{source}: {exc.message}", hint=exc.hint) from None
        yield ActionResult("decrypt", str(target), detail=f"{fmt}, from {source}")


def _decrypt_one(source: Path, target: Path, fmt: str, *, passphrase: Callable[[], str] | None,
                 identities: Callable[[], Sequence[str]] | None, limit: int) -> None:  # fmt: skip
    from s3safe.crypto import aescrypt, age

    if fmt == "aescrypt":
        aescrypt.decrypt_file(source, target, _need(passphrase, "a passphrase"))
    elif _uses_passphrase(source):
        age.decrypt_file(source, target, passphrase=_need(passphrase, "a passphrase"), max_work_factor=limit)
    else:
        found = list(identities()) if identities else []
        if not found:
            raise UsageError(f"{source} is encrypted to age recipients", hint="pass --identity FILE or set S3SAFE_IDENTITY_FILE")
        age.decrypt_file(source, target, identities=found)


def _uses_passphrase(path: Path) -> bool:
    """An age file whose header has an scrypt stanza (armored files are read by the decryptor either way)."""
    with path.open("rb") as handle:
        head = handle.read(4096)
    if head.lstrip().startswith(b"-----BEGIN AGE"):
        import base64
        import binascii

        body = b"".join(line for line in head.split(b"\n")[1:] if line and not line.startswith(b"-----"))
        try:
            head = base64.b64decode(body[: len(body) // 4 * 4])
        except (ValueError, binascii.Error):
            return False
    return b"\n-> scrypt " in head


def _need(source: Callable[[], str] | None, what: str) -> str:
    if source is None:
        raise UsageError(f"{what} is needed", hint="set S3SAFE_PASSPHRASE or pass --passphrase-file")
    return source()
