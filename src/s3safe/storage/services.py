"""Clients for the AWS services beside S3 that s3safe drives (CloudTrail, S3 Control, STS).

They get the connection's credentials, region, CA bundle, retries and timeouts. On a custom endpoint
(moto, LocalStack) the same endpoint is asked, as the test servers serve every service on one port.
"""

from __future__ import annotations

from typing import Any

from s3safe import __version__
from s3safe.storage import requestlog
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated
from s3safe.storage.retries import botocore_retries


def service_client(conn: Connection, service: str, *, region: str | None = None, attempts: int | None = None) -> Any:
    """A boto3 client for `service` with the connection's settings (`attempts`: fewer tries, for lookups
    that an S3-only endpoint cannot answer anyway)."""
    from botocore.config import Config

    settings = conn.settings
    conn.credentials()
    config = Config(
        region_name=region or conn.default_region,
        retries=botocore_retries(settings, at_most=attempts),
        connect_timeout=settings.timeout,
        read_timeout=settings.timeout,
        user_agent_extra=f"s3safe/{__version__}",
    )
    with translated(f"create the {service} client"):
        client = conn.session.create_client(
            service,
            endpoint_url=settings.endpoint_url if settings.is_custom_endpoint else None,
            verify=settings.ca_bundle or True,
            config=config,
        )
    if settings.is_custom_endpoint and settings.endpoint_url:
        _no_host_prefix(client, settings.endpoint_url)
    requestlog.register(client, service=client.meta.service_model.service_id.hyphenize())  # --debug lines, as for S3
    return client


def _no_host_prefix(client: Any, endpoint_url: str) -> None:
    """S3 Control's endpoint rules put the account id in front of the host (ACCOUNT.s3-control…); against
    --endpoint-url that names a host that does not exist, so the request goes to the endpoint as given
    (before signing: the signature covers the host)."""
    from urllib.parse import urlsplit, urlunsplit

    host = urlsplit(endpoint_url).netloc

    def as_given(request: Any, **_: Any) -> None:
        parts = urlsplit(request.url)
        if parts.netloc != host and parts.netloc.endswith(f".{host}"):
            request.url = urlunsplit(parts._replace(netloc=host))

    client.meta.events.register_first("before-sign", as_given)


def error_code(exc: BaseException) -> str:
    """The service's error code of a botocore ClientError ('' for anything else)."""
    response = getattr(exc, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""
