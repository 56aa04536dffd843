"""The credentials and region botocore's chain would pick, read from the environment without importing it.

Importing boto3 and resolving a session costs 0.3–1 s of CPU on this class of machine: more than a whole
restore of 2,000 small objects through obstore, which needs no botocore at all. When the environment holds a
static key pair and nothing could come before it in the chain, the answer is known without botocore:

- no saved s3safe profile is selected (`--auth`, `$S3SAFE_AUTH`, `auth use`: it goes first in the chain;
  the connection checks that, as it is told which one by its caller);
- no AWS profile is named (`--profile`, `$AWS_PROFILE`, `$AWS_DEFAULT_PROFILE`: a named profile can take
  the environment's place);
- AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are both set, with no expiry (`$AWS_CREDENTIAL_EXPIRATION`
  makes them refreshable) and no legacy `$AWS_SECURITY_TOKEN` (botocore prefers it to AWS_SESSION_TOKEN).

In every other case, None: the caller goes through botocore's full chain as before.

The region likewise: AWS_DEFAULT_REGION, else (no profile named) the default profile's `region` in the shared
config and credentials files, read with botocore's own parser but without building a session (~0.25 CPU-s).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class StaticCredentials:
    access_key: str
    secret_key: str
    token: str | None


def credentials(profile: str | None, environ: Mapping[str, str] | None = None) -> StaticCredentials | None:
    env = os.environ if environ is None else environ
    if profile or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE"):
        return None
    if "AWS_CREDENTIAL_EXPIRATION" in env or "AWS_SECURITY_TOKEN" in env:
        return None
    key, secret = env.get("AWS_ACCESS_KEY_ID", ""), env.get("AWS_SECRET_ACCESS_KEY", "")
    token = env.get("AWS_SESSION_TOKEN")
    if not key or not secret or token == "":
        return None
    return StaticCredentials(key, secret, token)


def region(environ: Mapping[str, str] | None = None) -> str | None:
    """botocore's own first source for the region (before any config file)."""
    env = os.environ if environ is None else environ
    return env.get("AWS_DEFAULT_REGION") or None


def files_region(profile: str | None, environ: Mapping[str, str] | None = None) -> tuple[bool, str | None]:
    """(known, region): the `region` botocore would read for the default profile from the shared files, None when
    they set none; (False, None) when a profile is named (botocore checks it exists) or a file cannot be read.

    botocore reads `config_file`, then lays each profile of `credentials_file` over it (Session.full_config)."""
    env = os.environ if environ is None else environ
    if profile or env.get("AWS_PROFILE") or env.get("AWS_DEFAULT_PROFILE"):
        return False, None
    # as botocore: a variable set, even to "", replaces the default path
    paths = [os.path.expanduser(os.path.expandvars(env.get(name, default))) for name, default in _FILES]
    if not any(os.path.isfile(path) for path in paths):
        return True, None  # botocore's answer without either file (and no parser to load)
    from botocore.configloader import load_config, raw_config_parse
    from botocore.exceptions import BotoCoreError

    try:
        config, credentials = (load_config(paths[0]) if os.path.isfile(paths[0]) else {"profiles": {}},
                               raw_config_parse(paths[1]) if os.path.isfile(paths[1]) else {})  # fmt: skip
    except (BotoCoreError, OSError):  # a file botocore cannot parse either: the session reports it as it always did
        return False, None
    default = {**config["profiles"].get("default", {}), **credentials.get("default", {})}
    value = default.get("region")
    return True, value if isinstance(value, str) and value else None


_FILES = (("AWS_CONFIG_FILE", "~/.aws/config"), ("AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials"))
