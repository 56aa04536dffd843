"""The saved profile a command signs with, handed to storage/ (storage/session.py puts it first in
botocore's credential chain). When no saved profile is selected the session is the plain AWS chain."""

from __future__ import annotations

from collections.abc import Callable

from s3safe.auth.profiles import Credentials
from s3safe.storage.session import METHOD, SavedProfile

__all__ = ["METHOD", "saved_profile_for"]


def _load_saved(name: str) -> Credentials:
    from s3safe.auth.selection import current
    from s3safe.auth.store import ProfileStore

    return ProfileStore(passphrase=current().passphrase).load(name)


def saved_profile_for(profile: str | None, *, loader: Callable[[str], Credentials] | None = None) -> SavedProfile | None:
    """The selected saved profile (--auth, $S3SAFE_AUTH, `auth use`) for the AWS `profile`, or None."""
    from s3safe.auth.selection import selected_profile

    name = selected_profile(aws_profile=profile)
    return None if name is None else SavedProfile(name, loader or _load_saved)
