"""The OS keyring (macOS Keychain, Windows Credential Locker, Secret Service / KWallet) through `keyring`.

A backend that cannot hold a secret — `keyring.backends.fail.Keyring`, the null keyring, or a chainer with
nothing to chain — counts as "no keyring", and the store falls back to the encrypted file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from s3safe.auth.profiles import Credentials
from s3safe.core.errors import AccessDeniedError

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "s3safe-auth"


def usable_keyring() -> KeyringBackend | None:
    """The configured keyring backend when it can really store secrets, else None."""
    try:
        import keyring
        from keyring.backends import chainer, fail, null
    except ImportError:  # pragma: no cover - keyring is a dependency
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration (bad PYTHON_KEYRING_BACKEND, config file) is "no keyring"
        return None
    if isinstance(backend, fail.Keyring | null.Keyring):
        return None
    if isinstance(backend, chainer.ChainerBackend) and not backend.backends:
        return None
    return backend


def describe(backend: KeyringBackend) -> str:
    """e.g. 'SecretService Keyring' or 'macOS Keyring'."""
    return str(getattr(backend, "name", type(backend).__name__))


class KeyringSecrets:
    """Profiles as keyring entries: service `s3safe-auth`, user name = profile name, password = JSON."""

    def __init__(self, backend: KeyringBackend, *, service: str = SERVICE) -> None:
        self.backend = backend
        self.service = service

    @property
    def description(self) -> str:
        return f"OS keyring ({describe(self.backend)})"

    def get(self, name: str) -> Credentials | None:
        from keyring.errors import KeyringError

        try:
            value = self.backend.get_password(self.service, name)
        except KeyringError as exc:
            raise AccessDeniedError(f"cannot read profile {name!r} from the OS keyring: {type(exc).__name__}",
                                    hint="unlock the keyring and retry") from None  # fmt: skip
        return None if value is None else Credentials.from_json(value)

    def put(self, name: str, creds: Credentials) -> None:
        from keyring.errors import KeyringError

        try:
            self.backend.set_password(self.service, name, creds.to_json())
        except KeyringError as exc:
            raise AccessDeniedError(f"cannot store profile {name!r} in the OS keyring: {type(exc).__name__}",
                                    hint="unlock the keyring, or pass --store file") from None  # fmt: skip

    def delete(self, name: str) -> bool:
        """Remove the entry; False if it was not there."""
        from keyring.errors import KeyringError, PasswordDeleteError

        try:
            self.backend.delete_password(self.service, name)
        except PasswordDeleteError:
            return False
        except KeyringError as exc:
            raise AccessDeniedError(f"cannot delete profile {name!r} from the OS keyring: {type(exc).__name__}",
                                    hint="unlock the keyring and retry") from None  # fmt: skip
        return True
