"""The fallback store: every file-backed profile in one age file, encrypted to a passphrase (scrypt).

The file is written atomically with mode 0600; its content is the standard age format, so `age -d` can
open it too. The passphrase comes from the caller (the library never prompts): a `PassphraseSource` is
asked once per vault object, with `new=True` when the file does not exist yet (the caller confirms it).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Protocol

from s3safe.auth.index import write_private
from s3safe.auth.profiles import Credentials
from s3safe.core.errors import AccessDeniedError, UsageError

VAULT_NAME = "auth.age"
MAX_VAULT = 16 * 1024 * 1024


class PassphraseSource(Protocol):
    def __call__(self, *, new: bool) -> str: ...


class FileVault:
    def __init__(self, path: Path, passphrase: PassphraseSource | None, *, work_factor: int | None = None) -> None:
        self.path = path
        self._source = passphrase
        self._passphrase: str | None = None
        self._work_factor = work_factor

    @property
    def description(self) -> str:
        return f"encrypted file {self.path}"

    def exists(self) -> bool:
        return self.path.exists()

    def _get_passphrase(self, *, new: bool) -> str:
        if self._passphrase is None:
            if self._source is None:
                raise AccessDeniedError(
                    f"the credentials file {self.path} needs its passphrase",
                    hint="set S3SAFE_PASSPHRASE, or run interactively",
                )
            self._passphrase = self._source(new=new)
        return self._passphrase

    def read_all(self) -> dict[str, Credentials]:
        from s3safe.crypto import age

        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except PermissionError:
            raise AccessDeniedError(f"cannot read the credentials file {self.path}: permission denied") from None
        if len(data) > MAX_VAULT:
            raise UsageError(f"the credentials file {self.path} is larger than {MAX_VAULT:,} bytes")
        plain = io.BytesIO()
        passphrase = self._get_passphrase(new=False)
        try:
            age.decrypt_stream(io.BytesIO(data), plain, passphrase=passphrase)
        except AccessDeniedError:
            self._passphrase = None
            raise AccessDeniedError(f"wrong passphrase for the s3safe credentials file {self.path}",
                                    hint="check the passphrase you typed, S3SAFE_PASSPHRASE or the --passphrase-file") from None  # fmt: skip
        try:
            raw = json.loads(plain.getvalue().decode("utf-8"))
            profiles = {str(name): Credentials.from_dict(value) for name, value in dict(raw["profiles"]).items()}
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, ValueError):
            raise UsageError(f"the credentials file {self.path} decrypted but is malformed") from None
        return profiles

    def write_all(self, profiles: dict[str, Credentials]) -> None:
        from s3safe.crypto import age

        passphrase = self._get_passphrase(new=not self.exists())
        document = {"version": 1, "profiles": {name: creds.to_dict() for name, creds in sorted(profiles.items())}}
        sealed = io.BytesIO()
        work_factor = age.DEFAULT_WORK_FACTOR if self._work_factor is None else self._work_factor
        plain = io.BytesIO(json.dumps(document).encode("utf-8"))
        age.encrypt_stream(plain, sealed, passphrase=passphrase, armor=True, work_factor=work_factor)
        write_private(self.path, sealed.getvalue())

    def get(self, name: str) -> Credentials | None:
        return self.read_all().get(name)

    def put(self, name: str, creds: Credentials) -> None:
        profiles = self.read_all()  # proves the passphrase before anything is rewritten
        profiles[name] = creds
        self.write_all(profiles)

    def delete(self, name: str) -> bool:
        profiles = self.read_all()
        if name not in profiles:
            return False
        del profiles[name]
        if profiles:
            self.write_all(profiles)
        else:
            self.remove()
        return True

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
