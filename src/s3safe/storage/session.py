"""botocore sessions, with a saved s3safe profile put first in botocore's own credential chain.

botocore's, not boto3's: s3safe uses no boto3 resource and no managed transfer, and importing boto3 (which
brings s3transfer) and building its session cost ~80 ms of CPU on every command that talks to S3.

Which saved profile a command uses is decided above storage (auth/selection.py); it arrives here as a
SavedProfile: a name and a loader that unlocks its secrets only when botocore first asks for them. With
none, the session is the plain AWS chain (environment, shared files and profiles, SSO, roles, container
and instance metadata), untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import botocore.session
    from botocore.credentials import Credentials as BotocoreCredentials

METHOD = "s3safe-auth"


class SecretMaterial(Protocol):
    """A saved profile's secrets (auth.profiles.Credentials is one)."""

    @property
    def access_key_id(self) -> str: ...

    @property
    def secret_access_key(self) -> str: ...

    @property
    def session_token(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class SavedProfile:
    name: str
    load: Callable[[str], SecretMaterial]  # called with `name`, lazily, when botocore needs credentials


def _provider(saved: SavedProfile) -> Any:
    from botocore.credentials import CredentialProvider

    class SavedProfileProvider(CredentialProvider):
        METHOD = METHOD
        CANONICAL_NAME = "custom-s3safe-auth"  # botocore asks third-party providers to start with "custom"

        def load(self) -> BotocoreCredentials:
            from botocore.credentials import Credentials as BotocoreCredentials

            creds = saved.load(saved.name)
            return BotocoreCredentials(creds.access_key_id, creds.secret_access_key, creds.session_token, method=METHOD)

    return SavedProfileProvider()


def make_session(profile: str | None, *, saved: SavedProfile | None = None) -> botocore.session.Session:
    """A botocore session for the AWS `profile` whose credential chain starts with `saved`, if given."""
    import botocore.session

    core = botocore.session.get_session()
    if profile is not None:
        core.set_config_variable("profile", profile)
    # an unknown profile raises ProfileNotFound here, before any request (where boto3.Session raised it)
    core.get_scoped_config()
    if saved is not None:
        resolver: Any = core.get_component("credential_provider")
        resolver.insert_before("env", _provider(saved))
    core.register_component("data_loader", _named_service_loader(core.get_config_variable("data_path")))
    # every client goes where s3safe resolved and checked (HTTPS unless --allow-http), or to AWS: botocore would
    # otherwise take an endpoint_url from ~/.aws/config (or AWS_ENDPOINT_URL_STS, …) unchecked, over plain HTTP
    # too, and the data plane would not follow it
    core.set_config_variable("ignore_configured_endpoint_urls", True)
    return core


def _named_service_loader(data_path: str | None) -> Any:
    """botocore's own loader, except that it checks a service's name by looking in that service's folder.

    botocore checks the name against a list of every service it has data for, built by reading each of ~450
    folders, once per kind of file; an S3 client loads three kinds (model, endpoint rules, paginators): ~55 ms
    on every command that makes one. Where the named folder has no such file, botocore's own list is built after
    all, for its own error."""
    import os

    from botocore.loaders import Loader, create_loader

    class NamedServiceLoader(Loader):
        def list_available_services(self, type_name: str) -> Any:
            return _KnownServices(self, type_name)

    loader = create_loader(data_path)
    named = NamedServiceLoader(extra_search_paths=loader.search_paths, include_default_search_paths=False)

    class _KnownServices:
        """`name in services` looks in one folder; anything else lists them all, as botocore does."""

        def __init__(self, owner: Any, type_name: str) -> None:
            self._owner, self._type = owner, type_name

        def __contains__(self, name: object) -> bool:
            if not isinstance(name, str) or not name or os.sep in name or name in (".", ".."):
                return False
            for root in self._owner.search_paths:
                folder = os.path.join(root, name)
                if os.path.isdir(folder) and any(self._owner.file_loader.exists(os.path.join(folder, version, self._type))
                                                 for version in os.listdir(folder)):  # fmt: skip
                    return True
            return False

        def _all(self) -> list[str]:
            return list(Loader.list_available_services(self._owner, self._type))

        def __iter__(self) -> Any:
            return iter(self._all())

        def __len__(self) -> int:
            return len(self._all())

        def __getitem__(self, index: Any) -> Any:
            return self._all()[index]

    return named
