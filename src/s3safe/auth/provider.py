"""A botocore credential provider for saved profiles, put first in botocore's own resolution chain.

When no saved profile is selected the session is the plain AWS chain (environment, shared files and
profiles, SSO, roles, container and instance metadata), untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.credentials import CredentialProvider
from botocore.credentials import Credentials as BotocoreCredentials

from s3safe.auth.profiles import Credentials

if TYPE_CHECKING:
    import boto3

METHOD = "s3safe-auth"


class SavedProfileProvider(CredentialProvider):
    METHOD = METHOD
    CANONICAL_NAME = "custom-s3safe-auth"  # botocore asks third-party providers to start with "custom"

    def __init__(self, name: str, loader: Callable[[str], Credentials]) -> None:
        super().__init__()
        self.name = name
        self._loader = loader

    def load(self) -> BotocoreCredentials:
        creds = self._loader(self.name)
        return BotocoreCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token, method=METHOD)


def _load_saved(name: str) -> Credentials:
    from s3safe.auth.selection import current
    from s3safe.auth.store import ProfileStore

    return ProfileStore(passphrase=current().passphrase).load(name)


def make_session(profile: str | None, *, loader: Callable[[str], Credentials] | None = None) -> boto3.Session:
    """A boto3 session for `profile` whose credential chain starts with the selected saved profile, if any."""
    import boto3
    import botocore.session

    from s3safe.auth.selection import selected_profile

    name = selected_profile(aws_profile=profile)
    if name is None:
        return boto3.Session(profile_name=profile)
    core = botocore.session.get_session()
    if profile:
        core.set_config_variable("profile", profile)
    resolver: Any = core.get_component("credential_provider")
    resolver.insert_before("env", SavedProfileProvider(name, loader or _load_saved))
    return boto3.Session(botocore_session=core, profile_name=profile)
