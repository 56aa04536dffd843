"""A real `keyring` backend class for the tests: entries live in a JSON file named by $S3SAFE_TEST_KEYRING_FILE.

It subclasses `keyring.backend.KeyringBackend`, so `keyring` loads and drives it exactly as it would the
macOS Keychain or the Secret Service (PYTHON_KEYRING_BACKEND=tests.file_keyring.FileKeyring). Tests use it
to prove the keyring path end to end without touching a real user keyring. It is viable only while that
variable is set, so it is never picked up by accident. It stores plaintext: a test fixture, nothing more.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from keyring.backend import KeyringBackend
from keyring.compat import properties
from keyring.errors import PasswordDeleteError

ENV = "S3SAFE_TEST_KEYRING_FILE"


class FileKeyring(KeyringBackend):
    @properties.classproperty
    def priority(cls) -> float:
        if not os.environ.get(ENV):
            raise RuntimeError(f"{ENV} is not set")
        return 1.0

    @staticmethod
    def _path() -> Path:
        return Path(os.environ[ENV])

    def _load(self) -> dict[str, str]:
        try:
            data: dict[str, str] = json.loads(self._path().read_text())
        except FileNotFoundError:
            return {}
        return data

    def _save(self, data: dict[str, str]) -> None:
        self._path().write_text(json.dumps(data))

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}\0{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}\0{username}"] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}\0{username}", None) is None:
            raise PasswordDeleteError("no such entry")
        self._save(data)
