"""The non-secret list of saved profiles: where each one's secret lives, its key id's last 4 characters,
and which profile is the default. JSON, written atomically with mode 0600 in the config directory.

The keyring cannot enumerate its entries, so this index is what `auth list` reads; it never holds a secret.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s3safe.core.errors import UsageError

INDEX_NAME = "auth.json"
STORE_KEYRING = "keyring"
STORE_FILE = "file"
STORES = (STORE_KEYRING, STORE_FILE)


@dataclass(frozen=True, slots=True)
class ProfileEntry:
    name: str
    store: str  # "keyring" or "file"
    key_id_masked: str
    saved_at: str  # ISO 8601, UTC

    def to_dict(self) -> dict[str, str]:
        return {"store": self.store, "key_id_masked": self.key_id_masked, "saved_at": self.saved_at}


@dataclass(slots=True)
class ProfileIndex:
    default: str | None = None
    profiles: dict[str, ProfileEntry] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": 1,
            "default": self.default,
            "profiles": {name: entry.to_dict() for name, entry in sorted(self.profiles.items())},
        }


def load_index(path: Path) -> ProfileIndex:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return ProfileIndex()
    except PermissionError:
        raise UsageError(f"cannot read the profile list {path}: permission denied") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise UsageError(f"the profile list {path} is not valid JSON", hint="fix or delete it") from None
    try:
        profiles = {
            str(name): ProfileEntry(str(name), str(entry["store"]), str(entry["key_id_masked"]), str(entry["saved_at"]))
            for name, entry in dict(data.get("profiles", {})).items()
        }
        default = data.get("default")
    except (AttributeError, KeyError, TypeError, ValueError):
        raise UsageError(f"the profile list {path} is malformed", hint="fix or delete it") from None
    if any(entry.store not in STORES for entry in profiles.values()):
        raise UsageError(f"the profile list {path} names an unknown store", hint="fix or delete it")
    return ProfileIndex(default=str(default) if default else None, profiles=profiles)


def write_private(path: Path, data: bytes) -> None:
    """Write `data` atomically to `path`, readable by its owner only, in a 0700 directory."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_BINARY", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            if os.name == "posix":
                os.fchmod(handle.fileno(), 0o600)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def save_index(index: ProfileIndex, path: Path) -> None:
    write_private(path, (json.dumps(index.to_dict(), indent=2) + "\n").encode("utf-8"))
