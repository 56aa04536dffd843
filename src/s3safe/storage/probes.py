"""The once-per-run probes of what an endpoint honours (conditional writes, conditional deletes): each asks the
server once per connection, under one lock, and remembers the answer on the connection; an endpoint found to
ignore the conditions gets one warning, and the empty objects a probe leaves are removed at once."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Literal, Protocol

from s3safe.core.errors import S3SafeError
from s3safe.core.models import ActionResult, ObjectInfo
from s3safe.core.safety import SafetyGate
from s3safe.storage.errors import UnsupportedError

if TYPE_CHECKING:
    from s3safe.storage.clients import Clients

log = logging.getLogger("s3safe.conditional")

NO_SUCH_ETAG = '"00000000000000000000000000000000"'  # an ETag no object has: the condition a probe sends

# the connection's field that remembers each probe's answer (None: not probed yet)
Probed = Literal["honours_conditions", "honours_delete_conditions"]
DeleteBatch = Callable[[str, list[tuple[str, str | None]]], list[ActionResult]]


def probed_once(conn: Clients, field: Probed, probe: Callable[[], bool | None], *, ignored: str) -> bool:
    """The answer remembered in `field`, else `probe()`'s: True, the endpoint honours the conditions; False, it
    ignores them (`ignored`, after the endpoint's name, is then warned once); None, the probe could not tell
    (taken as ignored, quietly: the fallback check is the safe side)."""
    with conn.conditions_lock:
        known: bool | None = getattr(conn, field)
        if known is None:
            probed = probe()
            known = bool(probed)
            setattr(conn, field, known)
            if probed is False:
                log.warning("%s ignores %s", conn.settings.endpoint_url or "this endpoint", ignored)
        return known


def remove_probe(delete_batch: DeleteBatch, bucket: str, items: Sequence[tuple[str, str | None]]) -> None:
    """Delete what a probe left (its empty object, or its versions and delete markers) through the safety gate;
    a failure is logged, not raised: the run's own work goes on."""

    def delete(batch: Sequence[tuple[str, str | None]]) -> list[ActionResult]:
        try:
            results = delete_batch(bucket, list(batch))
        except S3SafeError as exc:  # the whole request failed (a 5xx): said per object, as a refused delete is
            results = [ActionResult("delete", f"s3://{bucket}/{key}", ok=False, error=str(exc)) for key, _ in batch]
        for result in results:
            if not result.ok:
                log.warning("could not delete the empty probe object %s (%s); delete it by hand", result.target, result.error)
        return results

    for _ in SafetyGate().apply("delete", list(items), delete, describe=lambda item: f"s3://{bucket}/{item[0]}", deletes=True):
        pass


class Sweeping(Protocol):
    """What sweep_probe needs of the storage (S3Storage has it)."""

    def iter_versions(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]: ...

    def current_etag(self, bucket: str, key: str) -> str | None: ...

    def delete_batch(self, bucket: str, items: list[tuple[str, str | None]]) -> list[ActionResult]: ...


def sweep_probe(storage: Sweeping, bucket: str, key: str) -> None:
    """After a probe whose answer was lost (a 5xx or a cut connection once its request had gone out): whatever it
    may have left at its key — its object or, on a versioned bucket, its versions and delete markers — found and
    removed. The key is the probe's own (a fresh UUID), so nothing else can be there. A failure is logged, not
    raised: the run's own work goes on."""
    try:
        try:
            left = [(v.key, v.version_id) for v in storage.iter_versions(bucket, key) if v.key == key]
        except UnsupportedError:  # an endpoint without version listings: its one object, if there
            left = [(key, None)] if storage.current_etag(bucket, key) is not None else []
    except S3SafeError as exc:
        log.warning("could not check whether the probe left s3://%s/%s behind (%s); if it is there, delete it by hand",
                    bucket, key, exc)  # fmt: skip
        return
    if left:
        remove_probe(storage.delete_batch, bucket, left)
