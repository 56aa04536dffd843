"""A key's history read from a version listing: what was current at a point in time, what is current now.

The input is S3Storage.iter_versions: keys in order, each key's versions together and newest first
(checked as it streams). Only one key's leading delete markers are held at a time.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from s3safe.core.models import ObjectInfo


@dataclass(frozen=True, slots=True)
class KeyHistory:
    key: str
    latest: ObjectInfo  # the current version, or the delete marker that hides the key
    at_time: ObjectInfo | None  # the newest version or delete marker at or before the time asked for
    top_markers: tuple[ObjectInfo, ...]  # the delete markers above the newest object version, or of its second
    newest_object: ObjectInfo | None  # the newest version that holds data

    @property
    def existed(self) -> ObjectInfo | None:
        """The version that was the object at the time asked for; None if the key did not exist then."""
        return self.at_time if self.at_time is not None and not self.at_time.is_delete_marker else None


class _Building:
    def __init__(self, first: ObjectInfo) -> None:
        self.latest = first
        self.at_time: ObjectInfo | None = None
        self.markers: list[ObjectInfo] = []
        self.newest_object: ObjectInfo | None = None

    def add(self, version: ObjectInfo, when: datetime | None) -> None:
        if self.at_time is None and when is not None and version.last_modified is not None and version.last_modified <= when:
            self.at_time = version
        if self.newest_object is None:
            if version.is_delete_marker:
                self.markers.append(version)
            else:
                self.newest_object = version
        elif version.is_delete_marker and _same_second_or_later(version, self.newest_object):
            # listed after the version only because they share a second: it may well hide it
            self.markers.append(version)

    def done(self) -> KeyHistory:
        return KeyHistory(self.latest.key, self.latest, self.at_time, tuple(self.markers), self.newest_object)


def _same_second_or_later(marker: ObjectInfo, version: ObjectInfo) -> bool:
    return marker.last_modified is not None and version.last_modified is not None and marker.last_modified >= version.last_modified


def histories(versions: Iterable[ObjectInfo], *, when: datetime | None = None) -> Iterator[KeyHistory]:
    """One KeyHistory per key, in key order; `at_time` is filled in when `when` is given."""
    building: _Building | None = None
    for version in versions:
        if building is None or version.key != building.latest.key:
            if building is not None:
                yield building.done()
            building = _Building(version)
        building.add(version, when)
    if building is not None:
        yield building.done()


def as_of(versions: Iterable[ObjectInfo], when: datetime) -> Iterator[ObjectInfo]:
    """Each key's version that was current at `when` (the newest at or before it), skipping keys that did
    not exist then: created later, or hidden by a delete marker at that time."""
    for history in histories(versions, when=when):
        if history.existed is not None:
            yield history.existed
