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
