"""Profile names and credentials: validation, masking, and the JSON that other AWS tools expect."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from s3safe.core.errors import UsageError
from s3safe.core.redact import register_credentials

NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
RESERVED_NAMES = frozenset({"none"})  # `--auth none` means "ignore the saved default"
_KEY_ID_RE = re.compile(r"^[\x21-\x7e]{3,128}$")  # printable ASCII, no spaces: AWS and S3-compatible key ids
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_SECRET = 4096


def validate_name(name: str) -> str:
    if name.lower() in RESERVED_NAMES:
        raise UsageError(f"{name!r} is reserved", hint="choose another profile name")
    if not NAME_RE.fullmatch(name):
        raise UsageError(
            f"invalid profile name {name!r}",
            hint="use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit",
        )
    return name


def mask_key_id(key_id: str) -> str:
    """The access key id reduced to its last 4 characters (nothing at all for ids too short to hide)."""
    return "****" + key_id[-4:] if len(key_id) >= 8 else "****"


@dataclass(frozen=True, slots=True)
class Credentials:
    """One profile's secret material; `repr` never shows it."""

    access_key_id: str = field(repr=False)
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)

    @property
    def masked_key_id(self) -> str:
        return mask_key_id(self.access_key_id)

    def register(self) -> None:
        """Register every part with redaction, so that none of it can reach output or logs."""
        register_credentials(self.access_key_id, self.secret_access_key, self.session_token)

    def to_dict(self) -> dict[str, str]:
        out = {"access_key_id": self.access_key_id, "secret_access_key": self.secret_access_key}
        if self.session_token:
            out["session_token"] = self.session_token
        return out

    @classmethod
    def from_dict(cls, data: Any) -> Credentials:
        if not isinstance(data, dict):
            raise UsageError("stored credentials are malformed")
        token = data.get("session_token")
        return make_credentials(str(data.get("access_key_id", "")), str(data.get("secret_access_key", "")),
                                session_token=str(token) if token else None)  # fmt: skip

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> Credentials:
        try:
            return cls.from_dict(json.loads(text))
        except json.JSONDecodeError:
            raise UsageError("stored credentials are malformed") from None

    def credential_process_output(self) -> dict[str, Any]:
        """The JSON an AWS SDK reads from a `credential_process` command (Version 1, no expiry)."""
        out: dict[str, Any] = {"Version": 1, "AccessKeyId": self.access_key_id, "SecretAccessKey": self.secret_access_key}
        if self.session_token:
            out["SessionToken"] = self.session_token
        return out


def make_credentials(access_key_id: str, secret_access_key: str, *, session_token: str | None = None) -> Credentials:
    """Validated credentials; registered for redaction before any check can quote them."""
    access_key_id = access_key_id.strip()
    secret_access_key = secret_access_key.strip()
    session_token = session_token.strip() if session_token else None
    creds = Credentials(access_key_id, secret_access_key, session_token or None)
    creds.register()
    if not _KEY_ID_RE.fullmatch(access_key_id):
        raise UsageError("the access key id must be 3 to 128 printable characters without spaces")
    for what, value in (("secret access key", secret_access_key), ("session token", session_token)):
        if value is None:
            continue
        if not value:
            raise UsageError(f"the {what} is empty")
        if len(value) > MAX_SECRET or _CONTROL_RE.search(value) or " " in value:
            raise UsageError(f"the {what} must be at most {MAX_SECRET} printable characters without spaces")
    if not secret_access_key:
        raise UsageError("the secret access key is empty")
    return creds
