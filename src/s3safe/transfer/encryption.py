"""Client-side encryption for transfers: what an upload encrypts with, and what a download decrypts with.

An encrypted object carries, in user metadata:

* ``s3safe-encryption``: ``age`` or ``aescrypt`` (the marker `--where "s3_client_encrypted = true"` reads);
* ``s3safe-digest``: a keyed digest of the plaintext (`s3safe.crypto.digest`), so `--only-diff` detects a
  change without decrypting and without publishing a bare hash anyone could confirm a guess against;
* ``s3safe-plain-size``: the plaintext size, so a size change is seen without hashing;
* ``s3safe-sha256``: as for every upload, the SHA-256 of the stored bytes (here: the ciphertext), when known.

Digest keys: with a passphrase, derived from it (scrypt at the age CLI's cost, with a random salt per bucket
kept in the state directory and named in every token), so any holder of the passphrase can compare, on any
machine, while metadata is no cheaper a passphrase oracle than the age header; with age recipients, a random key in a 0600 file under the config dir, because a backup host that
holds only public keys must not hold anything that decrypts. Losing that file costs one re-upload, no data.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from s3safe.core.errors import AccessDeniedError, IntegrityError, NotFoundError, UsageError
from s3safe.core.smallfile import read_small_file
from s3safe.crypto._common import Transformer

Format = Literal["age", "aescrypt"]
FORMATS: tuple[Format, ...] = ("age", "aescrypt")
ENCRYPTION_META = "s3safe-encryption"
DIGEST_META = "s3safe-digest"
PLAIN_SIZE_META = "s3safe-plain-size"
DIGEST_KEY_FILE = "digest.key"
ENCRYPTED_CONTENT_TYPE = "application/octet-stream"  # the plaintext's type is not published either


def default_digest_key_path() -> Path:
    from s3safe.core.settings import config_dir

    return config_dir() / DIGEST_KEY_FILE


def load_or_create_digest_key(path: Path | None = None, *, create: bool) -> bytes | None:
    """The random digest key for recipient-mode uploads; created (0600) on first use when `create`."""
    from s3safe.crypto.digest import generate_digest_key

    path = path or default_digest_key_path()
    try:
        data = read_small_file(path, what="digest key file", limit=4096)
    except NotFoundError:
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        key = generate_digest_key()
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process won the race: use its key
            return load_or_create_digest_key(path, create=False)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key.hex().encode() + b"\n")
        return key
    try:
        key = bytes.fromhex(data.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != 32:
        raise UsageError(f"digest key file {path} is damaged", hint="remove it; the next upload re-uploads everything once")
    return key


def bucket_digest_salt(bucket: str, *, directory: Path | None = None) -> bytes:
    """This user's random digest salt for `bucket` (public: tokens name it), created on first use."""
    import hashlib

    from s3safe.crypto.digest import SALT_BYTES, new_digest_salt
    from s3safe.transfer.state import state_dir

    folder = directory or state_dir() / "digest-salts"
    path = folder / (hashlib.sha256(bucket.encode()).hexdigest()[:32] + ".salt")
    try:
        salt = bytes.fromhex(path.read_text(encoding="ascii").strip())
        if len(salt) == SALT_BYTES:
            return salt
    except (OSError, ValueError):
        pass  # missing or damaged: a new salt only means new tokens; old ones are still read by their own salt
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    salt = new_digest_salt()
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(salt.hex() + "\n", encoding="ascii")
    os.replace(tmp, path)
    return salt


@dataclass(frozen=True, slots=True)
class Encryption:
    """How uploads are encrypted. Exactly one of `recipients` (age) and `passphrase` (age or aescrypt)."""

    format: Format
    digest_key: bytes = field(repr=False)
    recipients: tuple[str, ...] = ()
    passphrase: str | None = field(default=None, repr=False)
    aescrypt_iterations: int | None = None
    _salted: dict[bytes, bytes] = field(default_factory=dict, repr=False, compare=False)

    def digest_key_for(self, token: str | None) -> bytes:
        """The key to compare `token` with: for a passphrase token under another salt (another machine's), the
        key of that salt (derived once per run); otherwise this upload's own key."""
        from s3safe.crypto.digest import digest_key_from_passphrase_salt, made_with, salt_of

        salt = salt_of(token)
        if salt is None or self.passphrase is None or made_with(token, self.digest_key):
            return self.digest_key
        if salt not in self._salted:
            self._salted[salt] = digest_key_from_passphrase_salt(self.passphrase, salt)
        return self._salted[salt]

    def validate(self) -> Encryption:
        if self.format not in FORMATS:
            raise UsageError(f"unknown encryption format {self.format!r}", hint="age or aescrypt")
        if self.format == "aescrypt" and self.passphrase is None:
            raise UsageError("AES Crypt encryption needs a passphrase", hint="set S3SAFE_PASSPHRASE or pass --passphrase-file")
        if self.format == "age" and bool(self.recipients) == (self.passphrase is not None):
            raise UsageError("age encryption needs --recipient/--recipients-file or a passphrase (not both)")
        if len(self.digest_key) != 32:
            raise UsageError("the plaintext digest key must be 32 bytes")
        return self

    def encryptor(self, state: bytes | None = None) -> Transformer:
        """A fresh encryptor, or (with `state` from `state_of`) one that repeats an earlier ciphertext."""
        if self.format == "aescrypt":
            from s3safe.crypto import aescrypt

            assert self.passphrase is not None
            iterations = self.aescrypt_iterations or aescrypt.DEFAULT_ITERATIONS
            return aescrypt.Encryptor(self.passphrase, iterations=iterations, state=state)
        from s3safe.crypto import age

        if state is not None:
            return age.Encryptor.resume(state)
        return age.Encryptor(recipients=list(self.recipients) or None, passphrase=self.passphrase)

    @staticmethod
    def state_of(encryptor: Transformer) -> bytes:
        state: Callable[[], bytes] = encryptor.state  # type: ignore[attr-defined]
        return state()


class Decryption:
    """Keys for downloads, loaded on first need (most downloads meet no encrypted object at all).

    `identities` and `passphrase` are callables so that an identity file is read, or a prompt shown, only
    when an encrypted object actually arrives; thread-safe, loaded once.
    `require_encrypted`: the restore was given keys, so it expects encrypted objects and refuses one stored
    without the encryption marker (an object swapped for plaintext would otherwise be restored silently).
    `require_digest`: an encrypted object must carry a plaintext digest under a key this restore holds, when
    it holds one for that object (`recipient_digest_key` for age identities; with a passphrase, always):
    an age recipient is public, so a ciphertext alone proves nothing about who made it.
    """

    def __init__(
        self, *, identities: Callable[[], Sequence[str]] | None = None, passphrase: Callable[[], str] | None = None,
        digest_key: Callable[[str], bytes | None] | None = None, enabled: bool = True, require_encrypted: bool = False,
        max_work_factor: int | None = None,
        salted_digest_key: Callable[[bytes], bytes | None] | None = None,
        recipient_digest_key: Callable[[], bytes | None] | None = None, require_digest: bool = False,
    ) -> None:  # fmt: skip
        if max_work_factor is not None:  # age loads here only to check a given limit: not for every restore
            from s3safe.crypto import age

            if not 1 <= max_work_factor <= age.MAX_WORK_FACTOR:
                raise UsageError(f"--max-work-factor must be between 1 and {age.MAX_WORK_FACTOR}, not {max_work_factor}")
        self._max_work_factor = max_work_factor
        self._identities = identities
        self._passphrase = passphrase
        self._digest_key = digest_key
        self._salted_digest_key = salted_digest_key  # the key of a v2 passphrase token, from the salt it names
        self.enabled = enabled
        self.require_encrypted = require_encrypted
        self._recipient_digest_key = recipient_digest_key
        self.require_digest = require_digest
        self._lock = threading.Lock()
        self._loaded_identities: list[str] | None = None
        self._loaded_passphrase: str | None = None
        self._digest_keys: dict[str, bytes | None] = {}

    def identities(self) -> list[str]:
        with self._lock:
            if self._loaded_identities is None:
                self._loaded_identities = list(self._identities()) if self._identities else []
            return self._loaded_identities

    def passphrase(self) -> str | None:
        with self._lock:
            if self._loaded_passphrase is None and self._passphrase is not None:
                self._loaded_passphrase = self._passphrase()
            return self._loaded_passphrase

    def digest_key(self, bucket: str, token: str | None = None) -> bytes | None:
        """The key to check (or compare) the plaintext digest `token` of an object in `bucket`, if available."""
        from s3safe.crypto.digest import salt_of

        salt = salt_of(token)
        with self._lock:
            if salt is not None and self._salted_digest_key is not None:
                slot = "salt:" + salt.hex()
                if slot not in self._digest_keys:
                    self._digest_keys[slot] = self._salted_digest_key(salt)
                return self._digest_keys[slot]
            if bucket not in self._digest_keys:
                self._digest_keys[bucket] = self._digest_key(bucket) if self._digest_key else None
            return self._digest_keys[bucket]

    def digest_check(self, fmt: str, bucket: str, token: str | None) -> tuple[bytes | None, bool]:
        """For an object `decryptor` opened: the key its digest `token` was made with, if this restore holds
        it (else None), and whether a missing or unverifiable digest must refuse the object."""
        from s3safe.crypto.digest import made_with

        known = self.digest_key(bucket, token)
        if known is not None and made_with(token, known):
            return known, False
        if fmt == "age" and self._try_identities():
            own = self._recipient_key()
            held = own is not None  # a recipient-only host holds nothing that could tell
        else:
            own = self._passphrase_digest_key(bucket, token)
            held = self._loaded_passphrase is not None
        if own is not None and made_with(token, own):
            return own, False
        return None, held and self.require_digest

    def _recipient_key(self) -> bytes | None:
        with self._lock:
            if "recipient" not in self._digest_keys:
                self._digest_keys["recipient"] = self._recipient_digest_key() if self._recipient_digest_key else None
            return self._digest_keys["recipient"]

    def _passphrase_digest_key(self, bucket: str, token: str | None) -> bytes | None:
        """The key the passphrase that opened the object gives for `token`'s scheme (derived once per salt or
        bucket); None for a token no passphrase key could have made, without paying for a derivation."""
        from s3safe.crypto.digest import SCHEME, digest_key_from_passphrase, digest_key_from_passphrase_salt, salt_of

        passphrase, salt = self._loaded_passphrase, salt_of(token)
        if passphrase is None or (salt is None and not (token or "").startswith(SCHEME + ":")):
            return None
        slot = f"passphrase:{salt.hex()}" if salt is not None else f"passphrase-v1:{bucket}"
        with self._lock:
            if slot not in self._digest_keys:
                self._digest_keys[slot] = (digest_key_from_passphrase_salt(passphrase, salt) if salt is not None
                                           else digest_key_from_passphrase(passphrase, context=bucket.encode()))  # fmt: skip
            return self._digest_keys[slot]

    def check_marked(self, fmt: str | None, url: str) -> None:
        """Refuse (IntegrityError, nothing written) an unmarked object when encrypted objects are expected."""
        if not fmt and self.enabled and self.require_encrypted:
            raise IntegrityError(
                f"{url} is not client-side encrypted, but this restore was given decryption keys; it was not written "
                "(anyone who can write to the bucket could have replaced the ciphertext with plaintext)",
                hint="pass --allow-unencrypted if the prefix really holds unencrypted objects",
            )

    def decryptor(self, fmt: str, url: str) -> Transformer:
        if fmt == "aescrypt":
            from s3safe.crypto import aescrypt

            secret = self.passphrase()
            if secret is None:
                raise AccessDeniedError(f"{url} is AES Crypt encrypted; a passphrase is needed",
                                        hint="set S3SAFE_PASSPHRASE or pass --passphrase-file")  # fmt: skip
            return _Named(aescrypt.Decryptor(secret), url)
        if fmt == "age":
            from s3safe.crypto import age

            identities = self._try_identities()
            try:
                secret = None if identities else self.passphrase()
            except UsageError:
                secret = None
            if not identities and secret is None:
                raise AccessDeniedError(f"{url} is age encrypted; no identity or passphrase to open it",
                                        hint="pass --identity FILE, set S3SAFE_IDENTITY_FILE or S3SAFE_PASSPHRASE")  # fmt: skip
            return _Named(age.Decryptor(identities=identities or None, passphrase=secret, max_work_factor=self.max_work_factor), url)
        raise UsageError(
            f"{url} is marked as encrypted with an unknown format {fmt!r}", hint="use --no-decrypt to fetch it as stored"
        )

    @property
    def max_work_factor(self) -> int:
        """The highest scrypt cost an object's header may ask for: by default no more than s3safe itself writes."""
        if self._max_work_factor is not None:
            return self._max_work_factor
        from s3safe.crypto import age

        return age.OBJECT_WORK_FACTOR

    def _try_identities(self) -> list[str]:
        try:
            return self.identities()
        except GivenIdentityUnusable:
            raise  # a file the user named, that holds no usable identity: said as it is, not as "no identity"
        except UsageError:
            # no identity configured: a passphrase may still open it
            if self._passphrase is None:
                raise
            return []


def encryption_for(
    fmt: str | None, *, bucket: str, recipients: Sequence[str] = (), recipients_files: Sequence[str] = (),
    passphrase_file: str | None = None, digest_key_file: str | None = None, prompt: Callable[[str], str] | None = None,
) -> Encryption | None:  # fmt: skip
    """The upload side from command-line choices; None when nothing asks for encryption.

    Recipients mean age to those recipients; otherwise a passphrase (file, $S3SAFE_PASSPHRASE, keyring,
    prompt) for age or AES Crypt. Recipients without --encrypt imply age.
    """
    if fmt is None and not (recipients or recipients_files):
        return None
    from s3safe.crypto import digest, keys  # cryptography loads only for an encrypted upload

    fmt = fmt or "age"
    if fmt not in FORMATS:
        raise UsageError(f"unknown encryption format {fmt!r}", hint="age or aescrypt")
    if recipients or recipients_files:
        if fmt != "age":
            raise UsageError("--recipient and --recipients-file are for age", hint="use --encrypt age")
        found = keys.load_recipients(recipients, recipients_files)
        key = load_or_create_digest_key(Path(digest_key_file) if digest_key_file else None, create=True)
        assert key is not None
        return Encryption(format="age", digest_key=key, recipients=tuple(found)).validate()
    passphrase = keys.resolve_passphrase(passphrase_file=passphrase_file, prompt=prompt, confirm=True,
                                         purpose=f"{fmt} passphrase")  # fmt: skip
    key = digest.digest_key_from_passphrase_salt(passphrase, bucket_digest_salt(bucket))
    return Encryption(format=fmt, digest_key=key, passphrase=passphrase).validate()


class GivenIdentityUnusable(UsageError):
    """An identity file named by --identity or S3SAFE_IDENTITY_FILE that cannot be used (not an age identity,
    too large, wrong passphrase to it)."""


def decryption_for(
    *,
    identity_files: Sequence[str] = (),
    passphrase_file: str | None = None,
    digest_key_file: str | None = None,
    prompt: Callable[[str], str] | None = None,
    enabled: bool = True,
    allow_unencrypted: bool = False,
    allow_unsigned: bool = False,
    max_work_factor: int | None = None,
) -> Decryption:
    """The download side: keys are looked for only when the first encrypted object arrives.

    Keys given for this run (identity files, $S3SAFE_IDENTITY_FILE or a passphrase file) mean the objects are
    expected to be encrypted: one without the marker is refused unless `allow_unencrypted`. An encrypted
    object without a digest under the key this restore holds for it is refused unless `allow_unsigned`.

    The plaintext digest is checked with the passphrase-derived key when a passphrase is set (file or
    environment), else with the digest key file when one exists; a digest made under another key is skipped
    (the format's own authentication still applies).
    """
    # the age and digest implementations load with the first encrypted object, not for every restore
    from s3safe.crypto._common import ENV_IDENTITY_FILE, ENV_PASSPHRASE

    # the identity files this run names (--identity, else $S3SAFE_IDENTITY_FILE); keygen's default is no statement
    env_identity = os.environ.get(ENV_IDENTITY_FILE)
    named = list(identity_files) or ([env_identity] if env_identity else [])

    def identities() -> list[str]:
        from s3safe.crypto import keys

        try:
            return keys.load_identities(identity_files, passphrase=lambda: keys.resolve_passphrase(
                prompt=prompt, purpose="identity file passphrase"))  # fmt: skip
        except UsageError as exc:
            if named:
                raise GivenIdentityUnusable(exc.message, hint=exc.hint) from None
            raise

    def passphrase() -> str:
        from s3safe.crypto import keys

        return keys.resolve_passphrase(passphrase_file=passphrase_file, prompt=prompt)

    quiet_passphrase = passphrase_file is not None or bool(os.environ.get(ENV_PASSPHRASE))

    def digest_key(bucket: str) -> bytes | None:
        from s3safe.crypto import digest

        if quiet_passphrase:  # objects uploaded before digest v2: their tokens are under the v1 derivation
            return digest.digest_key_from_passphrase(passphrase(), context=bucket.encode())
        return load_or_create_digest_key(Path(digest_key_file) if digest_key_file else None, create=False)

    def salted_digest_key(salt: bytes) -> bytes | None:
        from s3safe.crypto import digest

        return digest.digest_key_from_passphrase_salt(passphrase(), salt) if quiet_passphrase else None

    def recipient_digest_key() -> bytes | None:
        return load_or_create_digest_key(Path(digest_key_file) if digest_key_file else None, create=False)

    # S3SAFE_PASSPHRASE does not count: it also unlocks saved credentials, so exporting it is no statement that
    # the prefix at hand is encrypted and must not make plain downloads fail; S3SAFE_IDENTITY_FILE only decrypts
    keys_given = bool(named) or passphrase_file is not None
    # the keys are read when the first encrypted object comes, but a path that cannot be a key file is said now: a
    # folder given as --identity otherwise surfaced as "no identity" or as a plaintext object refused
    from s3safe.core.smallfile import check_small_file

    for name in named:
        check_small_file(name, what="identity file")
    return Decryption(identities=identities, passphrase=passphrase, digest_key=digest_key, enabled=enabled,
                      require_encrypted=keys_given and not allow_unencrypted, max_work_factor=max_work_factor,
                      salted_digest_key=salted_digest_key, recipient_digest_key=recipient_digest_key,
                      require_digest=not allow_unsigned)  # fmt: skip


class _Named:
    """A decryptor whose refusals (wrong passphrase, no identity fits) name the object: the crypto layer knows only
    "this age file", and in a tree of hundreds the user needs to know which one."""

    def __init__(self, inner: Transformer, url: str) -> None:
        self._inner = inner
        self._url = url

    def update(self, data: bytes) -> bytes:
        try:
            return self._inner.update(data)
        except AccessDeniedError as exc:
            raise AccessDeniedError(f"{self._url}: {exc.message}", hint=exc.hint) from None

    def finalize(self) -> bytes:
        try:
            return self._inner.finalize()
        except AccessDeniedError as exc:
            raise AccessDeniedError(f"{self._url}: {exc.message}", hint=exc.hint) from None
