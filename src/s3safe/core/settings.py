"""Connection settings and the persistent config file.

Precedence, highest first: command-line option, environment variable, config file, built-in default.
"""

from __future__ import annotations

import os
import re
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from s3safe.core.errors import AccessDeniedError, NotFoundError, S3SafeError, UsageError
from s3safe.core.smallfile import read_small_file

DEFAULT_THREADS = 10
DEFAULT_RETRIES = 5
DEFAULT_TIMEOUT = 60.0
MAX_THREADS = 256

_REGION_RE = re.compile(r"^[a-z]{2}(-[a-z0-9]+)+-\d+$|^[a-z0-9][a-z0-9-]{0,62}$")


def check_region(value: str, *, option: str = "--region", source: str = "") -> str:
    """A region name as S3 spells them; an empty one (an unset shell variable) or stray spaces are refused.
    `source`: where the value came from, when no option of s3safe's gave it."""
    if not _REGION_RE.fullmatch(value):
        raise UsageError(f"invalid {option} {value!r}{f' (from {source})' if source else ''}", hint="e.g. us-east-1 or eu-central-1")
    return value
_RATE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgt]?i?b?)(?:/s)?\s*$", re.IGNORECASE | re.ASCII)
_RATE_UNITS = {
    "": 1, "b": 1,
    "k": 1000, "kb": 1000, "ki": 1024, "kib": 1024,
    "m": 1000**2, "mb": 1000**2, "mi": 1024**2, "mib": 1024**2,
    "g": 1000**3, "gb": 1000**3, "gi": 1024**3, "gib": 1024**3,
    "t": 1000**4, "tb": 1000**4, "ti": 1024**4, "tib": 1024**4,
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ConnectionSettings:
    profile: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    ca_bundle: str | None = None
    allow_http: bool = False
    threads: int = DEFAULT_THREADS
    retries: int = DEFAULT_RETRIES
    timeout: float = DEFAULT_TIMEOUT
    max_bandwidth: int | None = None  # bytes per second
    # SSE-C: every object request of this connection carries the key (core/ssec.py loads it)
    sse_c_key: bytes | None = field(default=None, repr=False)

    @property
    def is_custom_endpoint(self) -> bool:
        """A non-AWS endpoint: path-style addressing and when_required checksums."""
        if not self.endpoint_url:
            return False
        host = urlsplit(self.endpoint_url).hostname or ""
        return not host.endswith(".amazonaws.com")

    @property
    def uses_http(self) -> bool:
        return bool(self.endpoint_url and self.endpoint_url.lower().startswith("http://"))


def parse_rate(text: str) -> int:
    """'10MB', '512KiB/s', '1.5g' -> bytes per second."""
    match = _RATE_RE.match(text)
    if not match:
        raise UsageError(f"invalid rate {text!r}", hint="use a number with an optional unit, e.g. 10MB or 512KiB")
    number, unit = match.groups()
    if unit.lower() not in _RATE_UNITS:
        raise UsageError(f"invalid rate {text!r}: unknown unit {unit!r}", hint="use B, KB, MB, GB, TB or KiB, MiB, GiB, TiB")
    value = int(float(number) * _RATE_UNITS[unit.lower()])
    if value <= 0:
        raise UsageError(f"rate {text!r} must be above zero")
    return value


MIN_BANDWIDTH = 64 * 1024  # below this a limiter turns every transfer into an apparent hang


def parse_bandwidth(text: str) -> int:
    """A --max-bandwidth / max_bandwidth value in bytes per second, at least 64 KiB/s."""
    rate = parse_rate(text)
    if rate < MIN_BANDWIDTH:
        raise UsageError(f"max_bandwidth {text!r} is below the minimum of 64KiB/s", hint="e.g. 512KiB or 10MB")
    return rate


def masked_url(url: str) -> str:
    """`url` with any user:password@ part masked, for messages."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    netloc, slash, tail = rest.partition("/")
    if "@" in netloc:
        netloc = "****@" + netloc.rpartition("@")[2]
    return f"{scheme}://{netloc}{slash}{tail}"


def check_endpoint(url: str, *, allow_http: bool) -> str:
    """`url` without a trailing '/': scheme http(s), a host, a port 1–65535, no credentials, path, query or fragment."""
    shown = masked_url(url)
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise UsageError(f"endpoint URL {shown} holds credentials, which s3safe never takes in a URL",
                         hint="remove the user:password@ part; use an AWS profile or environment variables")  # fmt: skip
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"invalid endpoint URL {shown!r}", hint="write it as https://HOST[:PORT]")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or (port is None and parts.netloc.endswith(":")):
        raise UsageError(f"invalid endpoint URL {shown!r}: the port must be a number from 1 to 65535")
    if parts.path.strip("/") and not (parts.query or parts.fragment or url.rstrip("/").endswith(("?", "#"))):
        # botocore and obstore both keep the path and sign it (SigV4 covers the request path): behind a reverse
        # proxy that strips it, the server checks the signature over another path and refuses every request
        base = f"{parts.scheme}://{parts.netloc}"
        raise UsageError(f"endpoint URL {shown} has a path ({parts.path.rstrip('/')}): S3 under a path prefix is not supported, "
                         "because requests are signed over their full path and a reverse proxy that strips the prefix "
                         "makes the server reject every signature",
                         hint=f"serve S3 at the root of its own host name or port (e.g. https://s3.example.com) and pass that; {base} if the server itself answers there")  # fmt: skip
    if parts.query or parts.fragment or url.rstrip("/").endswith(("?", "#")) or parts.path.strip("/"):
        raise UsageError(f"invalid endpoint URL {shown!r}: an endpoint is a scheme, host and port only (no path, query or fragment)",
                         hint="write it as https://HOST[:PORT]")  # fmt: skip
    if parts.scheme == "http" and not allow_http:
        raise UsageError(
            f"refusing plain-HTTP endpoint {shown}: credentials and data would cross the network unencrypted",
            hint="use https://, or pass --allow-http if this is a trusted local test server",
        )
    return url.rstrip("/")


def _endpoint(value: Any, *, allow_http: bool, checked: bool) -> str | None:
    if not value:
        return None
    return check_endpoint(str(value), allow_http=allow_http) if checked else str(value).rstrip("/")


def _first(*values: Any) -> Any:
    for value in values:
        if value is not None and value != "":
            return value
    return None


def _as_int(name: str, value: Any, *, low: int, high: int) -> int:
    # int() would truncate 2.5, map true to 1 and overflow on 1e400; only whole numbers are taken
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise UsageError(f"{name} must be a whole number, not {value!r}")
    if isinstance(value, str) and not re.fullmatch(r"\s*[+-]?[0-9]+\s*", value, re.ASCII):  # int() takes any script's digits
        raise UsageError(f"{name} must be a whole number written with the digits 0-9, not {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        raise UsageError(f"{name} must be a whole number, not {value!r}") from None
    if not low <= number <= high:
        raise UsageError(f"{name} must be between {low} and {high}, not {number}")
    return number


MAX_RETRIES = 20
MAX_TIMEOUT = 3600.0
MIN_TIMEOUT = 1.0  # shorter and no request to a real store can finish


def _as_timeout(value: Any) -> float:
    try:
        if isinstance(value, bool):
            raise TypeError
        timeout = float(value)
    except (TypeError, ValueError, OverflowError):
        raise UsageError(f"timeout must be a number of seconds, not {value!r}") from None
    if not MIN_TIMEOUT <= timeout <= MAX_TIMEOUT:  # also false for nan
        raise UsageError(f"timeout must be from {MIN_TIMEOUT:g} to {MAX_TIMEOUT:g} seconds, not {value!r}")
    return timeout


def resolve_settings(
    cli: Mapping[str, Any],
    *,
    env: Mapping[str, str] | None = None,
    config: Mapping[str, Any] | None = None,
    check_endpoint_url: bool = True,
) -> ConnectionSettings:
    """Merge option, environment and config-file values into validated settings.

    `check_endpoint_url=False` (commands that send no request) keeps the endpoint as given, unchecked.
    """
    env = os.environ if env is None else env
    config = config or {}
    allow_http = bool(cli.get("allow_http"))
    sources = (cli.get("endpoint_url"), env.get("S3SAFE_ENDPOINT_URL"), env.get("AWS_ENDPOINT_URL_S3"), env.get("AWS_ENDPOINT_URL"))
    endpoint = _first(*sources, config.get("endpoint_url"))
    region = _first(cli.get("region"), env.get("S3SAFE_REGION"), config.get("region"))
    if region is not None and not _REGION_RE.fullmatch(str(region)):
        raise UsageError(f"invalid region {region!r}", hint="e.g. us-east-1 or eu-central-1")
    ca_bundle = _first(cli.get("ca_bundle"), env.get("S3SAFE_CA_BUNDLE"), config.get("ca_bundle"))
    if ca_bundle is not None:
        read_ca_bundle(str(ca_bundle))
    bandwidth = _first(cli.get("max_bandwidth"), config.get("max_bandwidth"))
    timeout = _as_timeout(_first(cli.get("timeout"), config.get("timeout"), DEFAULT_TIMEOUT))
    try:
        endpoint_url = _endpoint(endpoint, allow_http=allow_http, checked=check_endpoint_url)
    except UsageError as refused:
        if _first(*sources) is not None:  # given on the command line or in the environment, not the file's
            raise
        raise UsageError(f"config file {config_path(env)}: {refused.message}",
                         hint="pass --allow-http if it is a trusted local test server, or remove it with "
                              "'s3safe config unset endpoint_url'") from None  # fmt: skip
    return ConnectionSettings(
        profile=_first(cli.get("profile"), config.get("profile")),
        endpoint_url=endpoint_url,
        region=str(region) if region else None,
        ca_bundle=str(Path(ca_bundle).resolve()) if ca_bundle else None,
        allow_http=allow_http,
        threads=_as_int("threads", _first(cli.get("threads"), config.get("threads"), DEFAULT_THREADS), low=1, high=MAX_THREADS),
        retries=_as_int("retries", _first(cli.get("retries"), config.get("retries"), DEFAULT_RETRIES), low=0, high=MAX_RETRIES),
        timeout=timeout,
        max_bandwidth=parse_bandwidth(str(bandwidth)) if bandwidth else None,
    )  # fmt: skip


# --- the config file -------------------------------------------------------------------------------

CONFIG_KEYS: dict[str, str] = {
    "endpoint_url": "default S3 endpoint (https://…)",
    "region": "default region",
    "profile": "default AWS profile",
    "ca_bundle": "PEM file of extra CA certificates to trust",
    "threads": "parallel transfers",
    "retries": "retry attempts per request",
    "timeout": "connect/read timeout in seconds",
    "max_bandwidth": "bandwidth cap, e.g. 20MB",
    "sse": "default server-side encryption: AES256 or aws:kms",
    "sse_kms_key_id": "default KMS key for aws:kms",
    "storage_class": "default storage class for uploads",
}
_SECRET_WORDS = ("secret", "password", "passphrase", "token", "private")
STORAGE_CLASSES = (
    "STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
    "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR", "EXPRESS_ONEZONE",
)  # fmt: skip
_NUMBER_KEYS = {"threads": (int,), "retries": (int,), "timeout": (int, float), "max_bandwidth": (int, str)}


def config_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("S3SAFE_CONFIG_DIR"):
        return Path(env["S3SAFE_CONFIG_DIR"])
    if sys.platform == "win32" and env.get("APPDATA"):
        return Path(env["APPDATA"]) / "s3safe"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "s3safe"
    base = env.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "s3safe"


def config_path(env: Mapping[str, str] | None = None) -> Path:
    return config_dir(env) / "config.toml"


def load_config(path: Path | None = None, *, check_values: bool = True) -> dict[str, Any]:
    """The config file's keys; every value checked as `config set` would (unless `check_values` is off)."""
    path = path or config_path()
    try:
        raw = read_small_file(path, what="config file")
    except NotFoundError:
        return {}
    except AccessDeniedError as exc:  # a config problem is a usage problem, whatever its cause
        raise UsageError(exc.message, hint=exc.hint) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"config file {path} is not valid TOML: {exc}", hint="fix or delete it") from None
    except RecursionError:
        raise UsageError(f"config file {path} is nested too deeply to read", hint="fix or delete it") from None
    unknown = sorted(set(data) - set(CONFIG_KEYS))
    if unknown and check_values:  # unchecked (config set/unset/show), they are kept: 'config unset' removes them
        raise UsageError(f"config file {path} has unknown keys: {', '.join(unknown)}",
                         hint="remove them: s3safe config unset " + unknown[0])  # fmt: skip
    if check_values:
        for key, value in data.items():
            _check_stored_value(path, key, value)
    return data


def _check_stored_value(path: Path, key: str, value: Any) -> None:
    """A value written by hand must pass the same checks as `config set`, so no command breaks later."""
    allowed = _NUMBER_KEYS.get(key, (str,))
    hint = f"edit {path}, or delete it to start over"
    if isinstance(value, bool) or not isinstance(value, allowed):
        names = {int: "a whole number" if float not in allowed else "a number", float: "a number", str: "a string"}
        kinds = " or ".join(dict.fromkeys(names[t] for t in allowed))
        raise UsageError(f"config file {path}: {key} must be {kinds}, not {value!r}", hint=hint)
    try:
        if isinstance(value, str):
            # a plain-HTTP endpoint is refused where it would be used (resolve_settings), not here: --allow-http
            # lets one command use it, and `config unset endpoint_url` must still be able to remove it
            _validate_config_value(key, value, allow_http=key == "endpoint_url")
        elif key == "timeout":
            _as_timeout(value)
        elif key == "max_bandwidth":
            parse_bandwidth(str(value))
        else:
            _as_int(key, value, low=0 if key == "retries" else 1, high=MAX_RETRIES if key == "retries" else MAX_THREADS)
    except UsageError as exc:
        raise UsageError(f"config file {path}: {exc.message}", hint=hint) from None


def _validate_config_value(key: str, value: str, *, allow_http: bool = False) -> str | int | float:
    if key not in CONFIG_KEYS:
        if any(word in key.lower() for word in _SECRET_WORDS):
            raise UsageError(
                f"{key!r} looks like a secret; secrets are never stored in the config file",
                hint="use environment variables or an AWS profile (--profile)",
            )
        raise UsageError(f"unknown config key {key!r}", hint="known keys: " + ", ".join(CONFIG_KEYS))
    if any((ord(ch) < 32 and ch != "\t") or 127 <= ord(ch) <= 159 for ch in value):
        raise UsageError(f"the value for {key!r} contains control characters")
    # the same bounds as resolve_settings, so a stored value can never break later commands
    if key == "threads":
        return _as_int(key, value, low=1, high=MAX_THREADS)
    if key == "retries":
        return _as_int(key, value, low=0, high=MAX_RETRIES)
    if key == "timeout":
        return _as_timeout(value)
    if key == "endpoint_url":
        check_endpoint(value, allow_http=allow_http)
    if key == "ca_bundle":
        read_ca_bundle(value)
        return str(Path(value).resolve())  # a relative path would break commands run elsewhere
    if key == "max_bandwidth":
        parse_bandwidth(value)
    if key == "sse" and value not in ("AES256", "aws:kms"):
        raise UsageError("sse must be AES256 or aws:kms")
    if key == "region" and not _REGION_RE.fullmatch(value):
        raise UsageError(f"invalid region {value!r}")
    if key == "storage_class" and value not in STORAGE_CLASSES:
        raise UsageError(f"unknown storage class {value!r} for storage_class", hint="one of: " + ", ".join(STORAGE_CLASSES))
    return value


CA_BUNDLE_LIMIT = 16 * 1024 * 1024  # a full system bundle is a few hundred KB


def read_ca_bundle(path: str) -> bytes:
    """The PEM bytes of a CA bundle; UsageError unless it is a small regular file holding a PEM certificate."""
    try:
        data = read_small_file(path, what="CA bundle", limit=CA_BUNDLE_LIMIT)
    except (NotFoundError, AccessDeniedError) as exc:
        raise UsageError(exc.message, hint=exc.hint) from None
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise UsageError(f"CA bundle {path} holds no PEM certificate", hint="name a PEM file of CA certificates")
    return data


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    out = []
    for ch in str(value):
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\u{ord(ch):04x}")  # TOML basic strings allow no raw control characters
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def save_config(data: Mapping[str, Any], path: Path | None = None) -> Path:
    """Write the config file atomically, readable by its owner only."""
    path = path or config_path()
    tmp = path.with_name(path.name + ".tmp")
    text = "".join(f"{key} = {_toml_value(data[key])}\n" for key in sorted(data))
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:  # nothing written yet: the old file, if any, is untouched
        raise _unwritable_config(path, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise _unwritable_config(path, exc) from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _unwritable_config(path: Path, exc: OSError) -> S3SafeError:
    hint = "set S3SAFE_CONFIG_DIR to a writable folder"
    if isinstance(exc, PermissionError):
        return AccessDeniedError(f"cannot write config file {path}: permission denied", hint=hint)
    return S3SafeError(f"cannot write config file {path}: {(exc.strerror or str(exc)).lower()}", hint=hint)


def set_config_value(key: str, value: str, *, path: Path | None = None) -> dict[str, Any]:
    data = load_config(path, check_values=False)  # so that a bad stored value can be replaced
    data[key] = _validate_config_value(key, value)
    save_config(data, path)
    return data


def unset_config_value(key: str, *, path: Path | None = None) -> dict[str, Any]:
    data = load_config(path, check_values=False)
    if key not in data:
        raise UsageError(f"config key {key!r} is not set")
    del data[key]
    save_config(data, path)
    return data
