"""The storage interface commands are written against, with what each backend declares it can do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from s3safe.core.models import ObjectInfo, PrefixInfo

Entry = ObjectInfo | PrefixInfo


@dataclass(frozen=True, slots=True)
class Features:
    """What a backend can do; callers ask instead of guessing from the class."""

    server_side_copy: bool
    acls: bool
    versions: bool
    server_side_encryption: bool


class Storage(Protocol):
    features: Features

    def iter_entries(self, container: str, prefix: str, *, recursive: bool) -> Iterator[Entry]:
        """Entries under `prefix`, streamed in ascending UTF-8 key order.

        With `recursive=False`, keys below the next '/' are folded into PrefixInfo entries.
        """
        ...
