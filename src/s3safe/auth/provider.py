"""The saved profile a command signs with, handed to storage/ (storage/session.py puts it first in
botocore's credential chain). When no saved profile is selected the session is the plain AWS chain."""

from __future__ import annotations

from collections.abc import Callable

from s3safe.auth.profiles import Credentials
from s3safe.auth.vault import PassphraseSource
from s3safe.storage.session import METHOD, SavedProfile

__all__ = ["METHOD", "saved_profile_for"]


def _saved_loader(passphrase: PassphraseSource | None) -> Callable[[str], Credentials]:
    def load(name: str) -> Credentials:
        from s3safe.auth.store import ProfileStore

        return ProfileStore(passphrase=passphrase).load(name)

    return load


def saved_profile_for(profile: str | None, *, loader: Callable[[str], Credentials] | None = None) -> SavedProfile | None:
    """The selected saved profile (--auth, $S3SAFE_AUTH, `auth use`) for the AWS `profile`, or None.

    The run's choice is read now: the secrets are unlocked later, when botocore first asks for them,
    possibly on a thread of the client's own that carries no run."""
    from s3safe.auth.selection import current, selected_profile

    name = selected_profile(aws_profile=profile)
    return None if name is None else SavedProfile(name, loader or _saved_loader(current().passphrase))
