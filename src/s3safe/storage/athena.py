"""Amazon Athena through boto3: start a query, wait for it (bounded), stream its result rows."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from s3safe.core.errors import ServiceError
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated
from s3safe.storage.listing_guard import ListingGuard
from s3safe.storage.retries import botocore_retries

_INTEGERS = {"tinyint", "smallint", "integer", "int", "bigint"}
_FLOATS = {"double", "float", "real"}


@dataclass(frozen=True)
class AthenaTarget:
    workgroup: str | None
    output: str | None  # s3://bucket/prefix/ for the result files; None: the workgroup's own setting
    database: str


class AthenaQueryFailed(ServiceError):
    """Athena ran the query and reported it FAILED or CANCELLED."""


class Athena:
    def __init__(self, conn: Connection) -> None:
        from botocore.config import Config

        settings = conn.settings
        conn.credentials()
        with translated("create the Athena client"):
            self._client: Any = conn.session.create_client(
                "athena",
                region_name=conn.default_region,
                endpoint_url=settings.endpoint_url if settings.is_custom_endpoint else None,
                verify=settings.ca_bundle or True,
                config=Config(retries=botocore_retries(settings),
                              connect_timeout=settings.timeout, read_timeout=settings.timeout),
            )  # fmt: skip

    def start(self, sql: str, target: AthenaTarget, *, database: str | None = None) -> str:
        params: dict[str, Any] = {"QueryString": sql}
        if database:
            params["QueryExecutionContext"] = {"Database": database}
        if target.workgroup:
            params["WorkGroup"] = target.workgroup
        if target.output:
            params["ResultConfiguration"] = {"OutputLocation": target.output}
        with translated("start an Athena query"):
            return str(self._client.start_query_execution(**params)["QueryExecutionId"])

    def wait(self, execution_id: str, *, timeout: float) -> dict[str, Any]:
        """The finished execution; AthenaQueryFailed when it failed, ServiceError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        pause = 0.1
        while True:
            with translated("follow the Athena query"):
                execution = self._client.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
            status = execution.get("Status", {})
            state = status.get("State")
            if state == "SUCCEEDED":
                return dict(execution)
            if state in ("FAILED", "CANCELLED"):
                reason = status.get("StateChangeReason") or status.get("AthenaError", {}).get("ErrorMessage") or "no reason given"
                raise AthenaQueryFailed(f"Athena query {execution_id} {state.lower()}: {reason}")
            if time.monotonic() + pause > deadline:
                raise ServiceError(f"Athena query {execution_id} still {str(state).lower()} after {timeout:g} s",
                                   hint="it goes on in Athena; raise --athena-timeout, or look it up in the Athena console")  # fmt: skip
            time.sleep(pause)
            pause = min(pause * 2, 2.0)

    def rows(self, execution_id: str) -> Iterator[list[Any]]:
        """The result rows, the header row first, page by page; integers and decimals typed by the column info."""
        kinds: list[str] | None = None
        token: str | None = None
        # a NextToken handed back, or endless empty pages each with a new one, would page forever
        guard = ListingGuard(f"the results of Athena query {execution_id}")
        while True:
            params: dict[str, Any] = {"QueryExecutionId": execution_id, "MaxResults": 1000}
            if token:
                params["NextToken"] = token
            with translated("read the Athena results"):
                page = self._client.get_query_results(**params)
            result = page.get("ResultSet", {})
            if kinds is None:
                kinds = [str(c.get("Type", "varchar")).lower() for c in result.get("ResultSetMetadata", {}).get("ColumnInfo", [])]
            first = token is None
            for index, row in enumerate(result.get("Rows", [])):
                cells = [d.get("VarCharValue") for d in row.get("Data", [])]
                yield cells if first and index == 0 else [_typed(v, kinds[i] if i < len(kinds) else "") for i, v in enumerate(cells)]
            token = page.get("NextToken")
            guard.page(empty=not result.get("Rows"), truncated=bool(token))
            if not token:
                return
            guard.token(token)


def _typed(value: str | None, kind: str) -> Any:
    if value is None:
        return None
    try:
        if kind in _INTEGERS:
            return int(value)
        if kind in _FLOATS or kind.startswith("decimal"):
            return float(value)
    except ValueError:
        return value
    return value


__all__ = ["Athena", "AthenaQueryFailed", "AthenaTarget"]
