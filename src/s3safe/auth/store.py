"""`auth save|use|list|rm`, `credential-process`: the profile store the CLI calls.

Secrets go to the OS keyring when one is usable, else to the age-encrypted file (`vault`); the index in
the config directory records which, so that listing never needs a secret.
"""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s3safe.auth.index import INDEX_NAME, STORE_FILE, STORE_KEYRING, ProfileEntry, ProfileIndex, load_index, save_index
from s3safe.auth.profiles import Credentials, validate_name
from s3safe.auth.vault import VAULT_NAME, FileVault, PassphraseSource
from s3safe.core.errors import AccessDeniedError, NotFoundError, UsageError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

    from s3safe.auth.backends import KeyringSecrets

STORE_AUTO = "auto"
_DETECT: Any = object()


@dataclass(frozen=True, slots=True)
class ProfileInfo:
    """What may be shown about a profile: never a secret, the key id only masked."""

    name: str
    store: str
    key_id_masked: str
    saved_at: str
    default: bool = False
    location: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": "auth_profile", "name": self.name, "store": self.store, "key_id": self.key_id_masked,
                "saved_at": self.saved_at, "default": self.default, "location": self.location}  # fmt: skip


@dataclass(frozen=True, slots=True)
class SaveResult:
    profile: ProfileInfo
    replaced: bool
    fallback_reason: str | None  # why the keyring was not used (automatic choice only)


class ProfileStore:
    """Profiles under `directory` (default: the config directory), secrets in the keyring or the vault."""

    def __init__(
        self,
        *,
        directory: Path | None = None,
        passphrase: PassphraseSource | None = None,
        keyring_backend: KeyringBackend | None = _DETECT,
        work_factor: int | None = None,
    ) -> None:
        if directory is None:
            from s3safe.core.settings import config_dir

            directory = config_dir()
        self.directory = directory
        self.index_path = directory / INDEX_NAME
        self.vault = FileVault(directory / VAULT_NAME, passphrase, work_factor=work_factor)
        self._keyring_backend = keyring_backend

    # --- backends ----------------------------------------------------------------------------------
    def _keyring(self) -> KeyringSecrets | None:
        from s3safe.auth.backends import KeyringSecrets, usable_keyring

        if self._keyring_backend is _DETECT:
            self._keyring_backend = usable_keyring()
        return None if self._keyring_backend is None else KeyringSecrets(self._keyring_backend)

    def _need_keyring(self, name: str) -> KeyringSecrets:
        secrets = self._keyring()
        if secrets is None:
            raise AccessDeniedError(
                f"profile {name!r} is stored in the OS keyring, but no usable keyring backend is available now",
                hint="run where the keyring is available, or save the profile again with --store file",
            )
        return secrets

    def _location(self, store: str) -> str:
        if store == STORE_FILE:
            return str(self.vault.path)
        secrets = self._keyring()
        return secrets.description if secrets else "OS keyring (unavailable)"

    def _info(self, entry: ProfileEntry, index: ProfileIndex, *, location: bool = False) -> ProfileInfo:
        return ProfileInfo(entry.name, entry.store, entry.key_id_masked, entry.saved_at, default=index.default == entry.name,
                           location=self._location(entry.store) if location else "")  # fmt: skip

    def _index(self) -> ProfileIndex:
        return load_index(self.index_path)

    def _entry(self, index: ProfileIndex, name: str) -> ProfileEntry:
        entry = index.profiles.get(validate_name(name))
        if entry is None:
            known = ", ".join(sorted(index.profiles)) or "none saved yet"
            raise NotFoundError(f"no saved profile named {name!r}", hint=f"known profiles: {known}; see 's3safe auth list'")
        return entry

    # --- operations --------------------------------------------------------------------------------
    def save(self, name: str, creds: Credentials, *, store: str = STORE_AUTO, replace: bool = False) -> SaveResult:
        validate_name(name)
        creds.register()
        index = self._index()
        old = index.profiles.get(name)
        if old is not None and not replace:
            raise UsageError(
                f"a profile named {name!r} already exists", hint="pass --force to replace it, or choose another name"
            )
        fallback = None
        if store == STORE_AUTO:
            secrets = self._keyring()
            store = STORE_KEYRING if secrets is not None else STORE_FILE
            if secrets is None:
                fallback = "no usable OS keyring backend"
        if store == STORE_KEYRING:
            secrets = self._keyring()
            if secrets is None:
                raise AccessDeniedError("no usable OS keyring backend to store the profile in", hint="use --store file or auto")
            secrets.put(name, creds)
        elif store == STORE_FILE:
            self.vault.put(name, creds)
        else:
            raise UsageError(f"unknown store {store!r}", hint="use auto, keyring or file")
        if old is not None and old.store != store:
            self._delete_secret(old, index)
        entry = ProfileEntry(name, store, creds.masked_key_id, datetime.now(UTC).isoformat(timespec="seconds"))
        index.profiles[name] = entry
        save_index(index, self.index_path)
        return SaveResult(self._info(entry, index, location=True), replaced=old is not None, fallback_reason=fallback)

    def profiles(self) -> list[ProfileInfo]:
        index = self._index()
        return [self._info(entry, index, location=True) for _, entry in sorted(index.profiles.items())]

    def info(self, name: str) -> ProfileInfo:
        """What may be shown about one profile; NotFoundError if there is none of that name."""
        index = self._index()
        return self._info(self._entry(index, name), index, location=True)

    def default(self) -> str | None:
        return self._index().default

    def use(self, name: str | None) -> ProfileInfo | None:
        """Make `name` the default profile (None: no default, the AWS credential chain applies again)."""
        index = self._index()
        entry = None if name is None else self._entry(index, name)
        index.default = None if entry is None else entry.name
        save_index(index, self.index_path)
        return None if entry is None else self._info(entry, index)

    def load(self, name: str) -> Credentials:
        """The profile's credentials (registered for redaction)."""
        entry = self._entry(self._index(), name)
        found = self._need_keyring(name).get(name) if entry.store == STORE_KEYRING else self.vault.get(name)
        if found is None:
            raise NotFoundError(
                f"the secret of profile {name!r} is missing from the {entry.store}",
                hint=f"save it again with 's3safe auth save {name} --force'",
            )
        found.register()
        return found

    def _delete_secret(self, entry: ProfileEntry, index: ProfileIndex) -> None:
        if entry.store == STORE_KEYRING:
            self._need_keyring(entry.name).delete(entry.name)
            return
        others = [e for e in index.profiles.values() if e.store == STORE_FILE and e.name != entry.name]
        if others:
            self.vault.delete(entry.name)
        else:
            self.vault.remove()  # the last file-backed profile: no passphrase needed to forget everything

    def remove(self, name: str) -> ProfileInfo:
        index = self._index()
        entry = self._entry(index, name)
        info = self._info(entry, index)
        self._delete_secret(entry, index)
        del index.profiles[entry.name]
        if index.default == entry.name:
            index.default = None
        save_index(index, self.index_path)
        return info

    def remove_all(self) -> tuple[list[ProfileInfo], list[str]]:
        """Forget every profile: keyring entries, the whole encrypted file, the index. Returns (removed, problems)."""
        index = self._index()
        removed: list[ProfileInfo] = []
        problems: list[str] = []
        for _, entry in sorted(index.profiles.items()):
            if entry.store == STORE_KEYRING:
                try:
                    self._need_keyring(entry.name).delete(entry.name)
                except AccessDeniedError as exc:
                    problems.append(str(exc))
                    continue
            removed.append(self._info(entry, index))
        self.vault.remove()
        kept = {e.name for e in index.profiles.values()} - {info.name for info in removed}
        index.profiles = {name: e for name, e in index.profiles.items() if name in kept}
        if index.default not in index.profiles:
            index.default = None
        save_index(index, self.index_path)
        return removed, problems


def credential_process_line(name: str, *, program: Sequence[str], passphrase_file: Path | None = None) -> str:
    """The `credential_process = …` line for ~/.aws/config that makes other AWS tools use profile `name`."""
    validate_name(name)
    argv = [*program, "auth", "credential-process", name]
    if passphrase_file is not None:
        argv += ["--passphrase-file", str(Path(passphrase_file).resolve())]
    # botocore splits this value like a shell (POSIX) or like CreateProcess (Windows)
    command = subprocess.list2cmdline(argv) if os.name == "nt" else shlex.join(argv)
    return f"credential_process = {command}"


def default_program() -> list[str]:
    """How to run this s3safe again: its console script when that is what runs, else `python -m s3safe`."""
    script = Path(sys.argv[0]) if sys.argv and sys.argv[0] else None
    if script is not None and script.stem == "s3safe" and script.is_file():
        return [str(script.resolve())]
    return [sys.executable, "-m", "s3safe"]
