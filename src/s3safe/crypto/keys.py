"""Key material: age identity files, recipient lists, and where passphrases come from.

The library never prompts: an interactive caller passes a ``prompt(message) -> str`` callable. Every secret
loaded here (passphrases, identities) is registered with `s3safe.core.redact.register_secret` at once.
Passphrases are never taken from argv; the sources are, in order: ``--passphrase-file``, ``S3SAFE_PASSPHRASE``,
the OS keyring (only if the optional ``keyring`` package is installed), then the caller's prompt.
"""

from __future__ import annotations

import io
import logging
import os
import stat
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from s3safe.core import context
from s3safe.core.errors import AccessDeniedError, S3SafeError, UsageError
from s3safe.core.redact import register_passphrase, register_secret
from s3safe.core.smallfile import read_small_file
from s3safe.crypto import age
from s3safe.crypto._common import ENV_IDENTITY_FILE as ENV_IDENTITY_FILE  # re-exported: callers read it here
from s3safe.crypto._common import ENV_PASSPHRASE as ENV_PASSPHRASE
from s3safe.crypto._common import atomic_output

KEYRING_SERVICE = "s3safe"
MAX_KEY_FILE = 1024 * 1024  # identity / recipient / passphrase files are small; refuse to slurp anything big

Prompt = Callable[[str], str]
PathLike = str | os.PathLike[str]
log = logging.getLogger("s3safe.keys")


class PassphraseSourceError(AccessDeniedError):
    """A passphrase source that cannot be used: a missing, unreadable, empty, binary or oversized passphrase file,
    an empty $S3SAFE_PASSPHRASE. Exit 4, the credentials class, whatever the cause: a cron job meets them all
    the same way, as credentials it cannot get."""


# -- passphrases ---------------------------------------------------------------------------------------


def _accept(passphrase: str, source: str) -> str:
    if not passphrase:
        raise PassphraseSourceError(f"the passphrase from {source} is empty")
    register_passphrase(passphrase)
    return passphrase


def _read_small(path: PathLike, what: str) -> bytes:
    return read_small_file(path, what=what, limit=MAX_KEY_FILE)


def passphrase_from_env(environ: Mapping[str, str] | None = None, *, name: str = ENV_PASSPHRASE) -> str | None:
    """The passphrase in ``$S3SAFE_PASSPHRASE`` (None if unset)."""
    value = (os.environ if environ is None else environ).get(name)
    return None if value is None else _accept(value, f"${name}")


def passphrase_from_file(path: PathLike) -> str:
    """The first line of a passphrase file (its line ending removed, nothing else stripped).

    Every problem is one PassphraseSourceError naming the file. A file that group or others may read is used,
    with a warning (as age does; ssh refuses a private key so exposed, but refusing here would stop a cron job
    that worked yesterday over a mode nobody changed on purpose)."""
    try:
        data = _read_small(path, "passphrase file")
    except S3SafeError as exc:  # missing, unreadable, a folder, a device, too big: all one class of problem
        raise PassphraseSourceError(exc.message, hint=exc.hint) from None
    if b"\0" in data:
        raise PassphraseSourceError(f"passphrase file {path} holds a NUL byte: it is not a text file",
                                    hint="write the passphrase as one line of text")  # fmt: skip
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise PassphraseSourceError(f"passphrase file {path} is not UTF-8 text",
                                    hint="write the passphrase as one line of text") from None  # fmt: skip
    _warn_if_exposed(path)
    lines = text.splitlines()
    return _accept(lines[0] if lines else "", f"passphrase file {path}")


def _warn_if_exposed(path: PathLike) -> None:
    name = os.fspath(path)
    try:
        exposed = insecure_permissions(name)
        mode = stat.S_IMODE(os.stat(name).st_mode)
    except OSError:  # gone since it was read: the read is what counts
        return
    warned = context.current().warned  # one warning per file and run: the CLI reads it twice (parse, use)
    if exposed and f"passphrase-mode:{name}" not in warned:
        warned.add(f"passphrase-mode:{name}")
        log.warning("passphrase file %s is open to group or others (mode %04o): run 'chmod 600 %s'", name, mode, name)


def passphrase_from_keyring(entry: str, *, service: str = KEYRING_SERVICE) -> str | None:
    """The passphrase stored in the OS keyring under (`service`, `entry`); None without keyring or entry."""
    try:
        import keyring  # type: ignore[import-not-found, unused-ignore]
        from keyring.errors import KeyringError  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    try:
        value = keyring.get_password(service, entry)
    except KeyringError:
        return None
    return None if value is None else _accept(str(value), "the keyring")


def store_passphrase_in_keyring(entry: str, passphrase: str, *, service: str = KEYRING_SERVICE) -> None:
    try:
        import keyring  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        raise UsageError("the keyring is not available", hint="pip install keyring") from None
    register_passphrase(passphrase)
    keyring.set_password(service, entry, passphrase)


def resolve_passphrase(
    *,
    passphrase_file: PathLike | None = None,
    environ: Mapping[str, str] | None = None,
    keyring_entry: str | None = None,
    prompt: Prompt | None = None,
    confirm: bool = False,
    purpose: str = "passphrase",
) -> str:
    """Find the passphrase: --passphrase-file, then $S3SAFE_PASSPHRASE, then the keyring, then `prompt`.

    With `confirm` (choosing a new passphrase) the prompt is asked twice and must match.
    """
    if passphrase_file is not None:
        return passphrase_from_file(passphrase_file)
    found = passphrase_from_env(environ)
    if found is None and keyring_entry:
        found = passphrase_from_keyring(keyring_entry)
    if found is not None:
        return found
    if prompt is None:
        raise UsageError(
            f"no {purpose} available",
            hint=f"set {ENV_PASSPHRASE}, pass --passphrase-file, store it in the keyring, or run interactively",
        )
    first = _accept(prompt(f"Enter {purpose}: "), "the prompt")
    if confirm and prompt(f"Confirm {purpose}: ") != first:
        raise UsageError(f"the two entries of the {purpose} do not match")
    return first


# -- identities and recipients -------------------------------------------------------------------------


def insecure_permissions(path: PathLike) -> bool:
    """True if a secret file is readable or writable by group or others (POSIX only)."""
    if os.name != "posix":
        return False
    return bool(Path(path).stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO))


def _is_encrypted(data: bytes) -> bool:
    return data.startswith(b"age-encryption.org/") or data.lstrip().startswith(b"-----BEGIN AGE ENCRYPTED FILE-----")


def write_identity_file(
    path: PathLike,
    identity: str | None = None,
    *,
    passphrase: str | None = None,
    work_factor: int = age.DEFAULT_WORK_FACTOR,
    overwrite: bool = False,
    post_quantum: bool = False,
) -> str:
    """Write an age identity file (mode 0600) and return its ``age1…`` (``age1pq1…``) recipient.

    A new identity is generated unless one is given. With `passphrase` the file is itself age-encrypted
    (scrypt, armored) so that ``age -d`` can open it too. An existing file is only replaced with `overwrite`.
    """
    if identity is None:
        identity, recipient = age.generate_identity(post_quantum=post_quantum)
    else:
        recipient = age.recipient_from_identity(identity)
    content = age.identity_file_text(identity).encode("ascii")
    if passphrase is not None:
        register_passphrase(passphrase)
        sealed = io.BytesIO()
        age.encrypt_stream(io.BytesIO(content), sealed, passphrase=passphrase, armor=True, work_factor=work_factor)
        content = sealed.getvalue()
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    if overwrite:
        with atomic_output(target) as handle:
            handle.write(content)
        return recipient
    try:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    except FileExistsError:
        raise UsageError(f"identity file already exists: {target}", hint="choose another path or allow overwriting") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            if os.name == "posix":
                os.fchmod(handle.fileno(), 0o600)
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    return recipient


def load_identity_file(
    path: PathLike,
    *,
    passphrase: str | Callable[[], str] | None = None,
    max_work_factor: int = age.MAX_WORK_FACTOR,
) -> list[str]:
    """Identities from a plain or passphrase-protected identity file.

    `passphrase` may be a callable so that a prompt only appears when the file is actually protected.
    """
    data = _read_small(path, "identity file")
    if _is_encrypted(data):
        secret = passphrase() if callable(passphrase) else passphrase
        if secret is None:
            raise AccessDeniedError(f"identity file {path} is passphrase-protected; a passphrase is needed")
        register_secret(secret)
        plain = io.BytesIO()
        age.decrypt_stream(io.BytesIO(data), plain, passphrase=secret, max_work_factor=max_work_factor)
        data = plain.getvalue()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"identity file is not text: {path}") from None
    return age.parse_identity_file(text)


def default_identity_path() -> Path:
    """Where `keygen` writes without -o, and where get/decrypt look without --identity (as age and ssh do)."""
    from s3safe.core.settings import config_dir

    return config_dir() / "identity.txt"


def resolve_identity_files(paths: Sequence[PathLike] = (), environ: Mapping[str, str] | None = None) -> list[Path]:
    """--identity FILE options, else ``$S3SAFE_IDENTITY_FILE``, else the keygen default if it exists; UsageError
    if none is there."""
    if paths:
        return [Path(p) for p in paths]
    value = (os.environ if environ is None else environ).get(ENV_IDENTITY_FILE)
    if value:
        return [Path(value)]
    default = default_identity_path()
    if default.is_file():
        return [default]
    raise UsageError("no age identity given",
                     hint=f"pass --identity FILE, set {ENV_IDENTITY_FILE}, or create {default} with 's3safe keygen'")  # fmt: skip


def load_identities(
    paths: Sequence[PathLike] = (),
    *,
    environ: Mapping[str, str] | None = None,
    passphrase: str | Callable[[], str] | None = None,
) -> list[str]:
    """All identities from the resolved identity files, in order."""
    identities: list[str] = []
    for path in resolve_identity_files(paths, environ):
        identities += load_identity_file(path, passphrase=passphrase)
    return identities


def load_recipients(recipients: Sequence[str] = (), recipients_files: Sequence[PathLike] = ()) -> list[str]:
    """``--recipient age1…`` values plus every ``--recipients-file``, validated and de-duplicated in order."""
    found = [r.strip().lower() for r in recipients]
    for value in found:
        age.parse_recipient(value)
    for path in recipients_files:
        data = _read_small(path, "recipients file")
        try:
            found += age.parse_recipients_file(data.decode("utf-8"))
        except UnicodeDecodeError:
            raise UsageError(f"recipients file is not text: {path}") from None
    if not found:
        raise UsageError("no age recipient given", hint="pass --recipient age1… or --recipients-file FILE")
    return list(dict.fromkeys(found))
