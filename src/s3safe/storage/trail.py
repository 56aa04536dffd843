"""CloudTrail trails: read every trail's event selectors, create a trail, change its selectors, start and
stop logging. One client per region (trails are regional; a multi-region trail is seen from every region)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated
from s3safe.storage.services import error_code, service_client


@dataclass(frozen=True)
class TrailInfo:
    name: str
    arn: str
    home_region: str
    multi_region: bool
    bucket: str  # where it writes
    prefix: str
    logging: bool
    basic: list[dict[str, Any]] = field(default_factory=list)  # EventSelectors
    advanced: list[dict[str, Any]] = field(default_factory=list)  # AdvancedEventSelectors


class Trails:
    def __init__(self, conn: Connection, *, region: str | None = None, attempts: int | None = None) -> None:
        self.conn = conn
        self.region = region or conn.default_region
        self._client: Any = None
        self._attempts = attempts

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = service_client(self.conn, "cloudtrail", region=self.region, attempts=self._attempts)
        return self._client

    def _info(self, trail: dict[str, Any]) -> TrailInfo:
        name = str(trail.get("Name"))
        with translated(f"read the event selectors of trail {name}"):
            selectors = self.client.get_event_selectors(TrailName=trail.get("TrailARN") or name)
            status = self.client.get_trail_status(Name=trail.get("TrailARN") or name)
        return TrailInfo(name, str(trail.get("TrailARN", "")), str(trail.get("HomeRegion", self.region)),
                         bool(trail.get("IsMultiRegionTrail")), str(trail.get("S3BucketName", "")), str(trail.get("S3KeyPrefix", "") or ""),
                         bool(status.get("IsLogging")), list(selectors.get("EventSelectors") or []),
                         list(selectors.get("AdvancedEventSelectors") or []))  # fmt: skip

    def all(self) -> list[TrailInfo]:
        """Every trail this region sees (its own and multi-region trails of other regions)."""
        with translated("list CloudTrail trails"):
            trails = self.client.describe_trails(includeShadowTrails=True).get("trailList", [])
        return [self._info(dict(t)) for t in trails]

    def get(self, name: str) -> TrailInfo | None:
        import botocore.exceptions

        with translated(f"read trail {name}"):
            try:
                trail = self.client.get_trail(Name=name).get("Trail")
            except botocore.exceptions.ClientError as exc:
                if error_code(exc) == "TrailNotFoundException":
                    return None
                raise
        return self._info(dict(trail)) if trail else None

    def create(self, name: str, *, bucket: str, prefix: str) -> None:
        params: dict[str, Any] = {"Name": name, "S3BucketName": bucket, "EnableLogFileValidation": True, "IsMultiRegionTrail": False}
        if prefix:
            params["S3KeyPrefix"] = prefix
        with translated(f"create trail {name}", bucket=bucket):
            self.client.create_trail(**params)

    def put_advanced(self, name: str, selectors: list[dict[str, Any]]) -> None:
        with translated(f"set the event selectors of trail {name}"):
            self.client.put_event_selectors(TrailName=name, AdvancedEventSelectors=selectors)

    def start(self, name: str) -> None:
        with translated(f"start logging of trail {name}"):
            self.client.start_logging(Name=name)

    def stop(self, name: str) -> None:
        with translated(f"stop logging of trail {name}"):
            self.client.stop_logging(Name=name)


def put_lifecycle(conn: Connection, bucket: str, rules: list[dict[str, Any]], extra: dict[str, Any]) -> None:
    with translated("set the lifecycle rules of", bucket=bucket):
        conn.client_for(bucket).put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": rules}, **extra)  # type: ignore[typeddict-item]
