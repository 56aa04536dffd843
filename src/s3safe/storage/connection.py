"""One place that turns ConnectionSettings into boto3 clients and obstore stores.

boto3 (botocore) carries the control plane and the credential chain; obstore carries bulk object
I/O. Both get the same endpoint, region, CA bundle and credentials, so commands never care which ran.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from s3safe import __version__
from s3safe.core.bandwidth import BandwidthLimiter
from s3safe.core.concurrency import Budget
from s3safe.core.errors import AccessDeniedError, UsageError
from s3safe.core.redact import redact, register_credentials
from s3safe.core.settings import ConnectionSettings, check_region, read_ca_bundle
from s3safe.storage import envcreds, requestlog
from s3safe.storage.answers import not_s3_guard, root_element
from s3safe.storage.errors import SSE_C_SENT, translated
from s3safe.storage.retries import attempts, botocore_retries, obstore_retries

if TYPE_CHECKING:
    import botocore.session
    from mypy_boto3_s3 import S3Client
    from obstore.store import S3Store

    from s3safe.storage.base import BucketSettings, ObjectStore
    from s3safe.storage.session import SavedProfile

log = logging.getLogger("s3safe.connection")

DEFAULT_REGION = "us-east-1"


def _redirect_guard(*, custom: bool) -> Any:
    """A needs-retry handler that stops botocore from following redirects that name no region.

    AWS's region redirects carry x-amz-bucket-region; a redirect without it (or any redirect from a
    non-AWS endpoint, which has no regions to move between) fails as the 3xx it is.
    """

    def guard(request_dict: dict[str, Any], response: Any = None, operation: Any = None, **_: Any) -> None:
        if response is None or response[0] is None or not 300 <= response[0].status_code < 400:
            return
        regional = "x-amz-bucket-region" in response[0].headers
        if custom or not regional:
            context = request_dict.setdefault("context", {})
            context["s3_redirected"] = True  # what botocore's S3RegionRedirectorv2 looks at
            context.setdefault("s3_redirect", {})["redirected"] = True  # and its predecessor

    return guard


_CONFIG_PREFIXES = ("GetBucket", "PutBucket", "DeleteBucket", "GetPublicAccessBlock", "PutPublicAccessBlock",
                    "DeletePublicAccessBlock", "GetObjectLockConfiguration", "PutObjectLockConfiguration")  # fmt: skip
_NOT_IMPLEMENTED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NotImplemented</Code>'
                    b"<Message>the endpoint does not support this bucket sub-resource</Message></Error>")  # fmt: skip


def _unsupported_subresource(operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
    """Turn a store's misreading of a bucket sub-resource request into the 501 NotImplemented it means.

    Stores without a sub-resource often ignore the query string: `GET ?policy` answers the bucket listing
    (which would be parsed as an empty setting, or fed to a JSON parser), and `PUT ?ownershipControls` is
    taken for a second CreateBucket (409 BucketAlreadyExists, which would read as "name taken").
    """
    name = operation_model.name
    if name == "DeleteBucket" or not name.startswith(_CONFIG_PREFIXES):
        return
    body = response_dict.get("body")
    if not isinstance(body, bytes):
        return
    head = body[:512]
    listing = response_dict.get("status_code") == 200 and name.startswith("Get") and root_element(head) == b"ListBucketResult"
    recreated = response_dict.get("status_code") == 409 and not name.startswith("Get") and b"<Code>BucketAlready" in head
    if listing or recreated:
        response_dict["status_code"] = 501
        response_dict["body"] = _NOT_IMPLEMENTED


# the object requests that take an SSE-C key (CopyObject and UploadPartCopy also for their source)
_SSE_C_OPERATIONS = ("HeadObject", "GetObject", "PutObject", "CreateMultipartUpload", "UploadPart",
                     "CompleteMultipartUpload", "CopyObject", "UploadPartCopy")  # fmt: skip


def _add_sse_c(client: Any, key: bytes) -> None:
    """Give every object request of this client the SSE-C key; botocore's own handler, which runs after
    this one, encodes it and adds its MD5."""

    def add(params: dict[str, Any], model: Any, **_: Any) -> None:
        params.setdefault("SSECustomerAlgorithm", "AES256")
        params.setdefault("SSECustomerKey", key)
        if model.name in ("CopyObject", "UploadPartCopy"):
            params.setdefault("CopySourceSSECustomerAlgorithm", "AES256")
            params.setdefault("CopySourceSSECustomerKey", key)

    def mark(http_response: Any, parsed: dict[str, Any], **_: Any) -> None:
        # botocore raises from `parsed` right after this: the error translation can then name the key
        if getattr(http_response, "status_code", 200) >= 400:
            parsed.setdefault("Error", {})[SSE_C_SENT] = True

    for operation in _SSE_C_OPERATIONS:
        client.meta.events.register_first(f"before-parameter-build.s3.{operation}", add)
        client.meta.events.register(f"after-call.s3.{operation}", mark)


# obstore's HTTP client (reqwest) follows up to 10 redirects by itself and offers no option to stop it; on
# another host it drops Authorization but re-sends the rest: the session token, a Referer, any SSE-C key. So
# every obstore store gets this proxy, which no connection can reach (port 0), for every host but the
# endpoint's own: a redirect elsewhere fails before a byte is sent there, and errors.py names it by this address.
REDIRECT_FENCE = "http://127.0.0.1:0"
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


OBSTORE_PINNED = {"skip_signature": False, "unsigned_payload": False, "s3_express": False, "request_payer": False}
# obstore would take these from the environment and send them on every request: an SSE-C key (which its client
# would follow a redirect with), or another encryption than the bucket's plan; s3safe takes them as options only
OBSTORE_REFUSED_ENV = ("AWS_SSE_CUSTOMER_KEY_BASE64", "AWS_SERVER_SIDE_ENCRYPTION", "AWS_SSE_KMS_KEY_ID",
                       "AWS_SSE_BUCKET_KEY_ENABLED")  # fmt: skip


def redirect_fence(endpoint_url: str | None) -> dict[str, str]:
    """obstore client options that refuse any request to a host other than the endpoint's (AWS: *.amazonaws.com).

    Nothing where the environment names a proxy (reqwest would then use ours instead of it): there a
    redirect is still followed, and only SSE-C keys, which never reach obstore, stay safe."""
    import os
    from urllib.parse import urlsplit

    if any(os.environ.get(name) for name in _PROXY_VARIABLES):
        log.debug("a proxy is set in the environment: obstore's requests are not fenced against redirects")
        return {}
    # reqwest's proxy exclusions match a domain and its subdomains (a virtual-hosted bucket.endpoint)
    host = urlsplit(endpoint_url).hostname if endpoint_url else None
    return {"proxy_url": REDIRECT_FENCE, "proxy_excludes": host or "amazonaws.com,amazonaws.com.cn"}


def _unsigned_when_checksummed(config: Any) -> Callable[..., None]:
    """A before-sign handler: a body covered by a signed x-amz-checksum-* header goes UNSIGNED-PAYLOAD.

    Over plain HTTP botocore would otherwise hash every body with SHA-256 for the signature, on top of the
    checksum already sent (and, on HTTPS, whenever the checksum header is not one it added itself). The
    checksum header is signed, so the body still cannot be swapped without the server seeing a mismatch.
    """
    from botocore.config import Config

    unsigned = config.merge(Config(s3={**(config.s3 or {}), "payload_signing_enabled": False}))  # type: ignore[arg-type]

    def handler(request: Any, **_: Any) -> None:
        if any(name.lower().startswith("x-amz-checksum-") for name in request.headers):
            request.context["client_config"] = unsigned  # read by botocore's S3SigV4Auth for this request only

    return handler


class Connection:
    """Lazily built, thread-safe holder of clients for one set of settings."""

    def __init__(
        self,
        settings: ConnectionSettings,
        *,
        objects: ObjectStore | None = None,
        admin: BucketSettings | None = None,
        saved_profile: Callable[[str | None], SavedProfile | None] | None = None,
    ) -> None:
        """`objects` / `admin`: another backend than S3 behind the same interface (the in-memory one in tests).
        `saved_profile`: given the AWS profile, the saved s3safe profile to sign with (auth.provider.saved_profile_for),
        asked once, when the session is first needed; None: the plain AWS credential chain."""
        self.settings = settings
        self._objects = objects
        self._admin = admin
        self._saved_profile = saved_profile
        self._lock = threading.Lock()
        self._session: botocore.session.Session | None = None
        self._clients: dict[str, S3Client] = {}
        self._bucket_regions: dict[str, str] = {}
        self._stores: dict[tuple[str, str | None, str | None, str | None], S3Store] = {}
        self._saved_resolved = False
        self._saved: SavedProfile | None = None
        self._env_checked = False
        self._files_region: tuple[bool, str | None] | None = None  # envcreds.files_region, read once
        self._env: envcreds.StaticCredentials | None = None
        # -t/--threads: requests in flight across the whole run, files and parts together
        self.budget = Budget(settings.threads)
        self.limiter: BandwidthLimiter | None = (
            BandwidthLimiter(settings.max_bandwidth) if settings.max_bandwidth else None
        )
        # whether this endpoint honours If-Match / If-None-Match on PUT: probed once per run (storage.conditional)
        self.honours_conditions: bool | None = None
        # whether it honours an ETag in DeleteObjects (storage.conditional_delete), probed by the first run that deletes
        self.honours_delete_conditions: bool | None = None
        # obstore refuses a ranged GET answered with status 200 (rclone serve s3 sends the right bytes so): once
        # seen, the run's ranged GETs go through botocore, which checks the answer is exactly the range
        self.ranges_via_botocore = False
        self.conditions_lock = threading.Lock()
        # per bucket: whether the endpoint applied the SSE header an upload sent (transfer.pipeline.applied_sse)
        self.sse_honoured: dict[str, bool] = {}
        # set when the endpoint answered a ranged GET with the whole object (rclone serve s3 does): the rest of the
        # run streams large objects at once instead of wasting a round of ranged GETs on each
        self.ignores_range: bool | None = None  # None: not known yet
        self.range_probe = threading.Lock()  # one download finds out; the others wait for its answer

    # --- the storage interface (storage/base.py) ------------------------------------------------------
    @property
    def objects(self) -> ObjectStore:
        """The object store the engines talk to: S3 unless another backend was given."""
        if self._objects is None:
            from s3safe.storage.s3 import S3Storage

            self._objects = S3Storage(self)
        return self._objects

    @property
    def admin(self) -> BucketSettings:
        """Bucket administration: S3's BucketAdmin unless another backend was given."""
        if self._admin is None:
            from s3safe.storage.buckets import BucketAdmin

            self._admin = BucketAdmin(self)
        return self._admin

    @property
    def _pool_size(self) -> int:
        """Connections kept per client: one per request slot, and a few for a request made while its thread
        already holds one (a HEAD during a streamed GET)."""
        return self.budget.requests + 4

    # --- botocore ----------------------------------------------------------------------------------
    @property
    def session(self) -> botocore.session.Session:
        with self._lock:
            if self._session is None:
                from s3safe.storage.session import make_session

                saved = self._saved_locked()
                with translated("load the AWS profile"):
                    # botocore raises ProfileNotFound here, before any request is made; a saved s3safe
                    # profile (--auth, $S3SAFE_AUTH, `auth use`) goes first in botocore's credential chain
                    self._session = make_session(self.settings.profile, saved=saved)
            return self._session

    def _saved_locked(self) -> SavedProfile | None:
        """The saved profile to sign with (asked once); the caller holds the lock."""
        if not self._saved_resolved:
            self._saved = self._saved_profile(self.settings.profile) if self._saved_profile else None
            self._saved_resolved = True
        return self._saved

    def credentials(self) -> Any:
        """Frozen credentials, registered for redaction; AccessDeniedError when there are none."""
        with translated("load AWS credentials"):
            try:
                creds = self.session.get_credentials()
            except ValueError as exc:  # a credential_process that printed no JSON (json.JSONDecodeError)
                raise AccessDeniedError(f"cannot load AWS credentials: {type(exc).__name__}: {redact(str(exc))}",
                                        hint="a credential_process must print its credentials as JSON") from None  # fmt: skip
            if creds is None:
                raise AccessDeniedError(
                    "no AWS credentials found",
                    hint="set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass --profile, or save a profile with 's3safe auth save NAME'",
                )
            frozen = creds.get_frozen_credentials()
        register_credentials(frozen.access_key, frozen.secret_key, frozen.token)
        return frozen

    @property
    def default_region(self) -> str:
        # held to --region's rule whichever path asks (the obstore paths took `../../x` where botocore refused it)
        return check_region(self._default_region(), option="region", source="AWS_DEFAULT_REGION or the AWS config file")

    def _default_region(self) -> str:
        # the environment's region is botocore's own first choice: reading it here spares importing boto3
        found = self.settings.region or envcreds.region()
        if found:
            return found
        with self._lock:
            built = self._session is not None
            if not built and self._files_region is None:
                self._files_region = envcreds.files_region(self.settings.profile)
            known, region = self._files_region or (False, None)
        if known and not built:  # read as botocore reads it, without building its session for that alone
            return region or DEFAULT_REGION
        return self.session.get_config_variable("region") or DEFAULT_REGION

    def _static_credentials(self) -> envcreds.StaticCredentials | None:
        """The environment's key pair when botocore's chain would certainly pick it (see storage.envcreds)."""
        with self._lock:
            if not self._env_checked:
                self._env_checked = True
                # a saved s3safe profile goes first in the chain: then botocore decides, as always
                self._env = None if self._saved_locked() is not None else envcreds.credentials(self.settings.profile)
            found = self._env
        if found is not None:
            register_credentials(found.access_key, found.secret_key, found.token)
        return found

    def client(self, region: str | None = None) -> S3Client:
        region = region or self.default_region
        with self._lock:
            cached = self._clients.get(region)
        if cached is not None:
            return cached
        self.credentials()
        from botocore.config import Config

        custom = self.settings.is_custom_endpoint
        config = Config(
            region_name=region,
            signature_version="s3v4",
            retries=botocore_retries(self.settings),
            connect_timeout=self.settings.timeout,
            read_timeout=self.settings.timeout,
            max_pool_connections=self._pool_size,
            user_agent_extra=f"s3safe/{__version__}",
            s3={"addressing_style": "path" if custom else "auto"},
            # Third-party stores reject or mangle the newer default CRC trailers; send checksums
            # explicitly per request instead (see storage.s3), and validate when the server offers.
            request_checksum_calculation="when_required" if custom else "when_supported",
            response_checksum_validation="when_required" if custom else "when_supported",
        )
        with translated("create the S3 client"):
            client: S3Client = self.session.create_client(  # type: ignore[assignment]  # the stubs type boto3's client
                "s3",
                endpoint_url=self.settings.endpoint_url,
                config=config,
                # Verification is never switched off; a private CA is trusted through the bundle.
                verify=self.settings.ca_bundle or True,
            )
        # before botocore's region redirector, which would otherwise chase a redirecting server through
        # nested HEAD requests until Python's recursion limit
        client.meta.events.register_first("needs-retry.s3", _redirect_guard(custom=custom))
        client.meta.events.register("before-parse.s3", _unsupported_subresource)
        # before botocore's own 200-error check, which calls any unreadable CopyObject answer an HTTP 500
        client.meta.events.register_first("before-parse.s3", not_s3_guard)
        if self.settings.sse_c_key:
            _add_sse_c(client, self.settings.sse_c_key)
        requestlog.register(client)
        unsigned = _unsigned_when_checksummed(client.meta.config)
        for operation in ("UploadPart", "PutObject"):
            client.meta.events.register(f"before-sign.s3.{operation}", unsigned)
        # every attempt of every request holds a slot of the run's budget while it is on the wire
        client.meta.events.register("before-send.s3", self.budget.hook_enter)
        client.meta.events.register("response-received.s3", self.budget.hook_exit)
        with self._lock:
            self._clients.setdefault(region, client)
            return self._clients[region]

    def _credential_provider(self) -> Any:
        from obstore.auth.boto3 import Boto3CredentialProvider

        return Boto3CredentialProvider(self.session)

    def bucket_region(self, bucket: str) -> str:
        """The bucket's own region, discovered once (AWS answers it even on a 301 or 403)."""
        if self.settings.is_custom_endpoint or self.settings.region:
            return self.default_region
        with self._lock:
            if bucket in self._bucket_regions:
                return self._bucket_regions[bucket]
        import botocore.exceptions

        region = self.default_region
        # an answer of any status names the region; no answer at all (no network, no such host) is said as such
        with translated("find the region of", bucket=bucket):
            try:
                response = self.client().head_bucket(Bucket=bucket)
                region = response["ResponseMetadata"]["HTTPHeaders"].get("x-amz-bucket-region", region)
            except botocore.exceptions.ClientError as exc:
                headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
                region = headers.get("x-amz-bucket-region", region)
        with self._lock:
            self._bucket_regions[bucket] = region
        return region

    def client_for(self, bucket: str) -> S3Client:
        return self.client(self.bucket_region(bucket))

    # --- obstore -----------------------------------------------------------------------------------
    def store(self, bucket: str, *, sse: str | None = None, kms_key_id: str | None = None, acl: str | None = None) -> S3Store:
        """An obstore store for one bucket, one server-side encryption setting and one canned ACL.

        obstore has no per-request ACL, so a store made for uploads with an ACL sends `x-amz-acl` on
        every request; it is used for single-request PUTs only.
        """
        cache_key = (bucket, sse, kms_key_id, acl)
        with self._lock:
            cached = self._stores.get(cache_key)
        if cached is not None:
            return cached
        store = self._new_store(bucket, sse=sse, kms_key_id=kms_key_id, acl=acl)
        with self._lock:
            self._stores.setdefault(cache_key, store)
            return self._stores[cache_key]

    def listing_store(self, bucket: str, *, before_each_request: Callable[[], None]) -> S3Store:
        """A store of its own for one obstore listing, which pages inside Rust where no page can be seen:
        `before_each_request` is called before every request it sends (and may raise to stop the listing).

        obstore asks its credential provider again whenever the credentials it holds have expired; these
        are handed out already expired, so it asks (and the callback runs) before each request."""
        return self._new_store(bucket, watch=before_each_request)

    def _new_store(self, bucket: str, *, sse: str | None = None, kms_key_id: str | None = None, acl: str | None = None,
                   watch: Callable[[], None] | None = None) -> S3Store:  # fmt: skip
        from datetime import timedelta

        from obstore.store import S3Store

        set_outside = [name for name in OBSTORE_REFUSED_ENV if os.environ.get(name)]
        if os.environ.get("AWS_ENDPOINT") and not self.settings.endpoint_url:  # obstore's alias, which s3safe does not read
            set_outside.append("AWS_ENDPOINT")
        if set_outside:
            raise UsageError(f"{set_outside[0]} is set in the environment, which s3safe does not take",
                             hint="unset it; s3safe's encryption comes from --sse, --sse-kms-key-id, --sse-c-key-file "
                                  "and the bucket's default")  # fmt: skip
        static = self._static_credentials()
        if static is None:
            self.credentials()
        config: dict[str, Any] = {
            "region": self.bucket_region(bucket),
            # every PUT and part carries x-amz-checksum-sha256, which the server verifies
            "checksum_algorithm": "sha256",
            # obstore reads every AWS_* variable it knows: what s3safe decides is given explicitly, so none of them
            # changes where or how the data plane talks (signed, payload signed, no Express, no requester pays)
            **OBSTORE_PINNED,
        }
        if self.settings.endpoint_url:
            config["endpoint"] = self.settings.endpoint_url
            # which obstore puts before `endpoint`: else AWS_ENDPOINT_URL_S3 from the environment would win over
            # --endpoint-url, for the data plane only
            config["aws_endpoint_url_s3"] = self.settings.endpoint_url
            config["virtual_hosted_style_request"] = not self.settings.is_custom_endpoint
        if sse:
            config["server_side_encryption"] = sse
        if kms_key_id:
            config["sse_kms_key_id"] = kms_key_id
        # no SSE-C key is ever given to obstore: its client follows redirects and would re-send the key to the
        # Location's host; object requests with an SSE-C key go through botocore (storage.compat.via_obstore)
        client_options: dict[str, Any] = {
            "allow_http": self.settings.allow_http,
            "timeout": timedelta(seconds=self.settings.timeout),
            "connect_timeout": timedelta(seconds=min(self.settings.timeout, 30)),
            "user_agent": f"s3safe/{__version__}",
            "pool_max_idle_per_host": str(self._pool_size),
        }
        if self.settings.ca_bundle:
            client_options["root_certificate"] = read_ca_bundle(self.settings.ca_bundle)
        if acl:
            client_options["default_headers"] = {"x-amz-acl": acl}
        client_options.update(redirect_fence(self.settings.endpoint_url))
        retry_config = obstore_retries(self.settings)
        provider = None if static is not None else self._credential_provider()
        if watch is not None:
            provider = _WatchedCredentials(static, provider, watch)
        elif static is not None:
            config.update(access_key_id=static.access_key, secret_access_key=static.secret_key)
            if static.token:
                config["session_token"] = static.token
        with translated("create the object store", bucket=bucket):
            # the provider refreshes SSO / role / instance credentials the same way boto3 does
            store = S3Store(bucket, config=config, client_options=client_options, retry_config=retry_config, credential_provider=provider)
        from s3safe.storage import dataplane

        dataplane.register(store, attempts=attempts(self.settings))  # obstore's own retries are off: dataplane's
        return store


class _WatchedCredentials:
    """An obstore credential provider that runs `watch` each time it is asked, and hands out credentials
    that have already expired so that it is asked before every request (storage.connection.listing_store)."""

    def __init__(self, static: envcreds.StaticCredentials | None, provider: Any, watch: Callable[[], None]) -> None:
        self.static, self.provider, self.watch = static, provider, watch

    def __call__(self) -> dict[str, Any]:
        from datetime import UTC, datetime, timedelta

        self.watch()
        if self.static is not None:
            credential: dict[str, Any] = {"access_key_id": self.static.access_key, "secret_access_key": self.static.secret_key,
                                          "token": self.static.token or None}  # fmt: skip
        else:
            credential = dict(self.provider())
        credential["expires_at"] = datetime.now(UTC) - timedelta(seconds=1)
        return credential
