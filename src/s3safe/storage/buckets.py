"""Bucket-level configuration through boto3: create (hardened), delete, and read each setting."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from s3safe.core.errors import NotFoundError, NotS3Error, S3SafeError, UsageError
from s3safe.storage.clients import Clients
from s3safe.storage.errors import UNSUPPORTED, UnsupportedError, fault_of, translate, translated

log = logging.getLogger("s3safe.buckets")

T = TypeVar("T")

BLOCK_ALL = {
    "BlockPublicAcls": True,
    "IgnorePublicAcls": True,
    "BlockPublicPolicy": True,
    "RestrictPublicBuckets": True,
}
OWNER_ENFORCED = "BucketOwnerEnforced"


@dataclass(frozen=True, slots=True)
class Setting:
    """One bucket setting as `info` shows it: set, not set, or unknown (with why)."""

    name: str
    state: str  # "set" | "not set" | "unknown"
    summary: str
    value: Any = None

    def to_dict(self) -> dict[str, Any]:
        return {"type": "setting", "name": self.name, "state": self.state, "summary": self.summary, "value": self.value}


# GET ?encryption answers that mean "no default encryption here": none configured, or a store without the setting
_NO_ENCRYPTION_CODES = ("ServerSideEncryptionConfigurationNotFoundError", "NotImplemented")


def _code(exc: Any) -> str:
    return fault_of(exc).code


def read_setting(
    name: str,
    call: Callable[[], Any],
    summarize: Callable[[Any], tuple[bool, str]],
    *,
    absent_codes: tuple[str, ...],
    bucket: str | None = None,
) -> Setting:
    """Run one Get* call; absence codes mean "not set", other failures mean "unknown"."""
    import botocore.exceptions

    try:
        response = call()
    except botocore.exceptions.ClientError as exc:
        code = _code(exc)
        if code in absent_codes:
            return Setting(name, "not set", "not set")
        error = translate(exc, action=f"read {name} of", bucket=bucket)
        if isinstance(error, NotS3Error):
            raise error from exc
        if isinstance(error, UnsupportedError):
            return Setting(name, "unknown", UNSUPPORTED)
        return Setting(name, "unknown", f"unknown: {error}")
    except botocore.exceptions.BotoCoreError as exc:
        return Setting(name, "unknown", f"unknown: {translate(exc, action=f'read {name} of', bucket=bucket)}")
    try:
        is_set, summary = summarize(response)
    except (ValueError, TypeError, KeyError, AttributeError, IndexError) as exc:  # an answer of the wrong shape
        return Setting(name, "unknown", f"unknown: the endpoint's answer could not be read ({type(exc).__name__})")
    return Setting(name, "set" if is_set else "not set", summary, _plain(response))


def read_optional(call: Callable[[], T], *, absent_codes: tuple[str, ...], action: str, bucket: str) -> T | None:
    """Run one Get* call of a setting that may not exist: None when the service says it is absent (one of
    `absent_codes`), the library's own error for any other failure."""
    import botocore.exceptions

    try:
        return call()
    except botocore.exceptions.ClientError as exc:
        if _code(exc) in absent_codes:
            return None
        raise translate(exc, action=action, bucket=bucket) from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise translate(exc, action=action, bucket=bucket) from exc


def is_unsupported(setting: Setting | None) -> bool:
    """The endpoint does not implement this setting at all (as opposed to not answering this time)."""
    return setting is not None and setting.state == "unknown" and setting.summary == UNSUPPORTED


def _plain(response: Any) -> Any:
    if isinstance(response, dict):
        return {k: _plain(v) for k, v in response.items() if k != "ResponseMetadata"}
    if isinstance(response, list):
        return [_plain(v) for v in response]
    if hasattr(response, "isoformat"):
        return response.isoformat()
    return response


class BucketAdmin:
    def __init__(self, conn: Clients) -> None:
        self.conn = conn

    def create(self, bucket: str, *, region: str | None, hardened: bool, object_lock: bool = False) -> list[str]:
        """Create a bucket; hardened means ACLs disabled, public access blocked, AES256 by default.

        Returns the steps done, for the CLI to show. A bucket that already exists and answers to these
        credentials is reported as yours (UsageError), never as created. A hardening setting the endpoint
        does not support is listed as such and the others still run; any other hardening failure leaves
        the bucket in place (private by AWS defaults) and the error names what is missing.
        """
        region = region or self.conn.default_region
        client = self.conn.client(region)
        self._refuse_existing(bucket)
        params: dict[str, Any] = {"Bucket": bucket}
        # As the AWS CLI does, on any endpoint: a regional CreateBucket without its constraint is refused
        # (IllegalLocationConstraintException) by AWS, moto and LocalStack alike. us-east-1 is the one
        # region named by no constraint; "auto" is a signing region (R2), not a location.
        if region not in ("us-east-1", "auto"):
            params["CreateBucketConfiguration"] = {"LocationConstraint": region}
        if hardened:
            params["ObjectOwnership"] = OWNER_ENFORCED
        if object_lock:  # only at creation does S3 take it on every store (and it turns versioning on)
            params["ObjectLockEnabledForBucket"] = True
        with translated("create bucket", bucket=bucket):
            client.create_bucket(**params)
        steps = [f"created bucket s3://{bucket} in {region}"]
        if object_lock:
            steps.append(self._confirm_object_lock(bucket))
        if not hardened:
            return steps
        hardening: list[tuple[str, str, Callable[[], Any]]] = [
            ("object ownership", "BucketOwnerEnforced (ACLs disabled)", lambda: client.put_bucket_ownership_controls(
                Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})),
            ("block public access", "all four settings on", lambda: client.put_public_access_block(
                Bucket=bucket, PublicAccessBlockConfiguration=BLOCK_ALL)),  # type: ignore[arg-type]
            ("default encryption", "AES256", lambda: client.put_bucket_encryption(
                Bucket=bucket,
                ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})),
        ]  # fmt: skip
        for name, done, call in hardening:
            try:
                with translated(f"set {name} of new bucket", bucket=bucket):
                    call()
            except UnsupportedError:
                steps.append(f"{name}: {UNSUPPORTED}")
                continue
            steps.append(f"{name}: {done}")
        return steps

    def _confirm_object_lock(self, bucket: str) -> str:
        """Object Lock as the new bucket reports it: a store that ignored the request must not pass for immutable."""
        if self.object_lock_enabled(bucket):
            return "object lock: enabled (versioning on); give uploads a retention with --retain-days N"
        raise UnsupportedError(f"bucket s3://{bucket} was created, but the endpoint did not turn Object Lock on",
                               hint=f"this store does not support Object Lock; delete the bucket with 's3safe rb s3://{bucket}' if unwanted")  # fmt: skip

    def object_lock_enabled(self, bucket: str) -> bool | None:
        """Whether Object Lock is on for the bucket; None when it cannot be read."""
        import botocore.exceptions

        try:
            r = self.conn.client_for(bucket).get_object_lock_configuration(Bucket=bucket)
        except botocore.exceptions.ClientError as exc:
            return False if _code(exc) == "ObjectLockConfigurationNotFoundError" else None
        except botocore.exceptions.BotoCoreError:  # no answer: not known
            return None
        return r.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled"

    def _refuse_existing(self, bucket: str) -> None:
        """UsageError when the bucket already exists and these credentials can open it.

        CreateBucket alone cannot tell: AWS answers 200 to re-creating your own bucket in us-east-1, and
        some stores answer BucketAlreadyExists ("taken by another account") for your own bucket.
        """
        try:
            self.exists(bucket)
        except NotFoundError:
            return
        except S3SafeError:  # 403 and the like: not ours to open; CreateBucket says the rest
            return
        raise UsageError(f"bucket s3://{bucket} already exists and is yours; nothing was changed",
                         hint=f"lock it down with 's3safe harden s3://{bucket}'")  # fmt: skip

    def delete(self, bucket: str) -> None:
        with translated("delete bucket", bucket=bucket):
            self.conn.client_for(bucket).delete_bucket(Bucket=bucket)

    def exists(self, bucket: str) -> None:
        """Raise NotFoundError / AccessDeniedError unless the bucket is there and reachable."""
        with translated("open bucket", bucket=bucket):
            self.conn.client_for(bucket).head_bucket(Bucket=bucket)

    def object_ownership(self, bucket: str) -> str | None:
        """BucketOwnerEnforced, BucketOwnerPreferred, ObjectWriter, or None when it cannot be read."""
        import botocore.exceptions

        try:
            r = self.conn.client_for(bucket).get_bucket_ownership_controls(Bucket=bucket)
        except botocore.exceptions.ClientError as exc:
            if _code(exc) == "OwnershipControlsNotFoundError":
                return "ObjectWriter"  # buckets without the setting behave as ObjectWriter
            return None
        except botocore.exceptions.BotoCoreError as exc:  # no answer (a timeout, a cut connection): not read either
            log.info("%s; taken as not known", translate(exc, action="read the Object Ownership of", bucket=bucket).message)
            return None
        rules = r.get("OwnershipControls", {}).get("Rules", [])
        return str(rules[0]["ObjectOwnership"]) if rules else "ObjectWriter"

    def versioning(self, bucket: str) -> str:
        """"Enabled", "Suspended", or "" for a bucket where versioning was never turned on."""
        with translated("read the versioning status of", bucket=bucket):
            r = self.conn.client_for(bucket).get_bucket_versioning(Bucket=bucket)
        return str(r.get("Status") or "")

    def default_encryption(self, bucket: str) -> str | None:
        """The bucket's default SSE algorithm, or None when it has none (or the endpoint keeps no such setting).
        An answer that says nothing about it (403 without s3:GetEncryptionConfiguration, a 5xx, no answer)
        raises: the default may well be KMS, and guessing "none" would have uploads downgrade it to AES256."""
        import botocore.exceptions

        try:
            r = self.conn.client_for(bucket).get_bucket_encryption(Bucket=bucket)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as exc:
            fault = fault_of(exc)
            if fault.code in _NO_ENCRYPTION_CODES or fault.status in (404, 501):
                return None
            raise translate(exc, action="read the default encryption of", bucket=bucket) from exc
        for rule in r.get("ServerSideEncryptionConfiguration", {}).get("Rules", []):
            algorithm = rule.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm")
            if algorithm:
                return str(algorithm)
        return None

    def blocked_encryption_types(self, bucket: str) -> set[str]:
        """The encryption types the bucket refuses for new objects (BlockedEncryptionTypes: "SSE-C", the default
        for buckets created since April 2026); empty when there are none or they cannot be read."""
        import botocore.exceptions

        try:
            r = self.conn.client_for(bucket).get_bucket_encryption(Bucket=bucket)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):
            return set()
        rules = r.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
        return {str(t) for rule in rules for t in rule.get("BlockedEncryptionTypes", {}).get("EncryptionType", [])} - {"NONE"}

    @staticmethod
    def _location(client: Any, bucket: str) -> str | None:
        """Where the bucket lives, as the store says (on a custom endpoint the client's signing region says
        nothing about it); None when the store cannot tell."""
        import botocore.exceptions

        try:
            answer = client.get_bucket_location(Bucket=bucket)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError, SyntaxError):
            # SyntaxError: xml's ParseError, which botocore's GetBucketLocation handler lets out of an empty body (a redirect)
            return None
        value = answer.get("LocationConstraint")
        if not isinstance(value, str | None):
            return None  # a store that answers the sub-resource with something else
        return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(value, value)

    def info(self, bucket: str) -> list[Setting]:
        self.exists(bucket)
        client = self.conn.client_for(bucket)
        region = self._location(client, bucket) or self.conn.bucket_region(bucket)
        settings = [Setting("region", "set", region, region)]

        def versioning(r: Any) -> tuple[bool, str]:
            status = r.get("Status")
            mfa = r.get("MFADelete")
            text = status or "never enabled"
            if mfa:
                text += f", MFA delete {mfa}"
            return status == "Enabled", text

        def ownership(r: Any) -> tuple[bool, str]:
            rules = r.get("OwnershipControls", {}).get("Rules", [])
            value = rules[0]["ObjectOwnership"] if rules else "ObjectWriter"
            note = " (ACLs disabled)" if value == OWNER_ENFORCED else " (ACLs enabled)"
            return True, value + note

        def public_block(r: Any) -> tuple[bool, str]:
            conf = r.get("PublicAccessBlockConfiguration", {})
            on = [k for k in BLOCK_ALL if conf.get(k)]
            if len(on) == len(BLOCK_ALL):
                return True, "all four settings on"
            return bool(on), f"{len(on)} of 4 on: " + (", ".join(on) or "none")

        def encryption(r: Any) -> tuple[bool, str]:
            rules = r.get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
            parts = []
            for rule in rules:
                default = rule.get("ApplyServerSideEncryptionByDefault", {})
                text = default.get("SSEAlgorithm", "?")
                if default.get("KMSMasterKeyID"):
                    text += f" (key {default['KMSMasterKeyID']})"
                if rule.get("BucketKeyEnabled"):
                    text += ", bucket key"
                parts.append(text)
            return bool(parts), "; ".join(parts) or "none"

        def policy(r: Any) -> tuple[bool, str]:
            doc = json.loads(r.get("Policy", "{}"))
            sids = [s.get("Sid", "(no Sid)") for s in doc.get("Statement", [])]
            return True, f"{len(sids)} statement(s): " + ", ".join(sids)

        def logging_status(r: Any) -> tuple[bool, str]:
            enabled = r.get("LoggingEnabled")
            if not enabled:
                return False, "off"
            return True, f"to s3://{enabled.get('TargetBucket')}/{enabled.get('TargetPrefix', '')}"

        def lifecycle(r: Any) -> tuple[bool, str]:
            rules = r.get("Rules", [])
            return bool(rules), f"{len(rules)} rule(s): " + ", ".join(str(rule.get("ID", "?")) for rule in rules)

        def object_lock(r: Any) -> tuple[bool, str]:
            conf = r.get("ObjectLockConfiguration", {})
            enabled = conf.get("ObjectLockEnabled") == "Enabled"
            retention = conf.get("Rule", {}).get("DefaultRetention")
            text = "enabled" if enabled else "not enabled"
            if retention:
                text += f", default {retention.get('Mode')} {retention.get('Days') or retention.get('Years')}"
            return enabled, text

        checks: list[tuple[str, Callable[[], Any], Callable[[Any], tuple[bool, str]], tuple[str, ...]]] = [
            ("versioning", lambda: client.get_bucket_versioning(Bucket=bucket), versioning, ()),
            ("object ownership", lambda: client.get_bucket_ownership_controls(Bucket=bucket), ownership, ("OwnershipControlsNotFoundError",)),
            ("block public access", lambda: client.get_public_access_block(Bucket=bucket), public_block, ("NoSuchPublicAccessBlockConfiguration",)),
            ("default encryption", lambda: client.get_bucket_encryption(Bucket=bucket), encryption, ("ServerSideEncryptionConfigurationNotFoundError",)),
            ("policy", lambda: client.get_bucket_policy(Bucket=bucket), policy, ("NoSuchBucketPolicy",)),
            ("logging", lambda: client.get_bucket_logging(Bucket=bucket), logging_status, ()),
            ("lifecycle", lambda: client.get_bucket_lifecycle_configuration(Bucket=bucket), lifecycle, ("NoSuchLifecycleConfiguration",)),
            ("object lock", lambda: client.get_object_lock_configuration(Bucket=bucket), object_lock, ("ObjectLockConfigurationNotFoundError",)),
        ]
        for name, call, summarize, absent in checks:
            settings.append(read_setting(name, call, summarize, absent_codes=absent, bucket=bucket))
        return settings

    # --- settings read and written one at a time (the BucketSettings interface) ---------------------------
    def _read(self, bucket: str, what: str, call: Callable[[Any], Any], *, absent: str) -> Any:
        """One Get* call; None when the answer is the error code `absent` (the setting is not there)."""
        import botocore.exceptions

        with translated(f"read the {what} of", bucket=bucket):
            try:
                return call(self.conn.client_for(bucket))
            except botocore.exceptions.ClientError as exc:
                if absent and _code(exc) == absent:
                    return None
                raise

    def policy(self, bucket: str) -> str | None:
        """The bucket policy document, None when the bucket has none."""
        r = self._read(bucket, "policy", lambda c: c.get_bucket_policy(Bucket=bucket), absent="NoSuchBucketPolicy")
        return None if r is None else str(r["Policy"])

    def put_policy(self, bucket: str, document: str) -> None:
        with translated("set the policy of", bucket=bucket):
            self.conn.client_for(bucket).put_bucket_policy(Bucket=bucket, Policy=document)

    def logging(self, bucket: str) -> dict[str, Any]:
        """The LoggingEnabled configuration; empty when access logging is off."""
        r = self._read(bucket, "logging configuration", lambda c: c.get_bucket_logging(Bucket=bucket), absent="")
        return dict((r or {}).get("LoggingEnabled") or {})

    def lifecycle_rules(self, bucket: str) -> list[dict[str, Any]]:
        r = self._read(bucket, "lifecycle rules", lambda c: c.get_bucket_lifecycle_configuration(Bucket=bucket),
                       absent="NoSuchLifecycleConfiguration")  # fmt: skip
        return [dict(rule) for rule in (r or {}).get("Rules", [])]
