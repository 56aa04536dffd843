"""Who the credentials belong to: STS GetCallerIdentity, through the connection's own session."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from s3safe.storage import answers
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translate
from s3safe.storage.retries import botocore_retries


@dataclass(frozen=True, slots=True)
class CallerIdentity:
    arn: str
    account: str | None


def caller_identity(conn: Connection) -> CallerIdentity | None:
    """The caller's ARN and account, or None when the endpoint cannot say (an answer, not an error).

    On a custom endpoint the same endpoint is asked (moto and some stores answer; most do not). An answer
    that is not STS's at all (a captive portal's page) is the error it is, not "cannot say".
    """
    import botocore.exceptions
    from botocore.config import Config

    settings = conn.settings
    conn.credentials()
    try:
        sts: Any = conn.session.create_client(
            "sts",
            region_name=conn.default_region,
            endpoint_url=settings.endpoint_url if settings.is_custom_endpoint else None,
            verify=settings.ca_bundle or True,
            config=Config(retries=botocore_retries(settings), connect_timeout=5, read_timeout=10),
        )
        answers.guard(sts)
        response = sts.get_caller_identity()
    except botocore.exceptions.ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == answers.NOT_S3:
            raise translate(exc, action="ask STS who the credentials belong to") from exc
        return None
    except botocore.exceptions.BotoCoreError:
        return None
    arn = response.get("Arn")
    account = response.get("Account")
    if not isinstance(arn, str) or not arn.startswith("arn:"):
        return None
    return CallerIdentity(arn, account if isinstance(account, str) else None)
