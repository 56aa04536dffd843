"""Answers that are not S3's: a body that is not S3 XML where botocore expects one.

botocore parses any 200 body it cannot read as XML into an empty result: a captive portal's or a wrong
endpoint's HTML page reads as an empty bucket (dangerous for `sync --purge` and `rm -r` decisions), a
`DeleteObjects` answered with HTML as "all deleted", and an HTML error page as an error without a code
("An error occurred () … (400)"). A `before-parse` hook turns such an answer into an S3 error document of
s3safe's own code, which storage/errors.classify names in one line. The answer's real status and
content type travel in the document; no message text is ever searched.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import Any

NOT_S3 = "S3SafeNotS3Xml"  # the code the rewritten document carries
STATUS = "S3SafeStatus"  # the status the endpoint really answered
CONTENT_TYPE = "S3SafeContentType"  # what it said the body was

# a listing must be exactly this document, or it is not a listing (an empty one would read as "no objects")
LISTING_ROOTS = {
    "ListObjectsV2": b"ListBucketResult", "ListObjects": b"ListBucketResult",
    "ListObjectVersions": b"ListVersionsResult", "ListMultipartUploads": b"ListMultipartUploadsResult",
    "ListParts": b"ListPartsResult", "ListBuckets": b"ListAllMyBucketsResult",
}  # fmt: skip
# the root element of each setting's (and STS identity's) answer, as the S3 API reference names it: a captive
# portal's <html> page is XML-shaped but none of these. Other XML answers (a write's result, whose root some
# stores name their own way: rclone's <InitiateMultipartUpload>) need only not be a web page. <Error> is always
# let through: botocore reads a 200 that carries one as the error it is.
DOCUMENT_ROOTS = {
    "GetBucketVersioning": b"VersioningConfiguration", "GetBucketAcl": b"AccessControlPolicy",
    "GetObjectAcl": b"AccessControlPolicy", "GetBucketEncryption": b"ServerSideEncryptionConfiguration",
    "GetBucketOwnershipControls": b"OwnershipControls", "GetPublicAccessBlock": b"PublicAccessBlockConfiguration",
    "GetBucketPolicyStatus": b"PolicyStatus", "GetBucketLogging": b"BucketLoggingStatus",
    "GetBucketLifecycleConfiguration": b"LifecycleConfiguration", "GetObjectLockConfiguration": b"ObjectLockConfiguration",
    "GetBucketLocation": b"LocationConstraint", "GetBucketTagging": b"Tagging", "GetObjectTagging": b"Tagging",
    "GetCallerIdentity": b"GetCallerIdentityResponse",
}  # fmt: skip
# a real S3 object answer (HEAD or GET, whole or ranged) always carries both; a web page carries neither
OBJECT_OPERATIONS = ("HeadObject", "GetObject")
WITHOUT_OBJECT_HEADERS = "without the ETag and Last-Modified headers S3 always sends"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)  # what obstore reads an absent Last-Modified as


class NotS3Answer(Exception):
    """obstore read an answer that is not S3's (storage.errors.translate names it in one line)."""

    def __init__(self, method: str, status: int, what: str) -> None:
        super().__init__(f"{method}: HTTP {status} {what}")
        self.method = method  # GET or HEAD
        self.status = status
        self.what = what  # what was wrong with it, in the words storage.errors shows


def check_object_meta(meta: Any, *, method: str) -> None:
    """obstore takes an object answer without ETag and Last-Modified (the ETag None, the time 1970): S3 never
    sends one, a web page always does; raise NotS3Answer for it."""
    if meta.get("e_tag") is None and meta.get("last_modified") in (None, _EPOCH):
        raise NotS3Answer(method, 200, WITHOUT_OBJECT_HEADERS)


def root_element(head: bytes) -> bytes:
    """The name of an XML document's root element from its first bytes (b"" when it is not XML), so that a
    JSON policy that merely mentions <ListBucketResult> is never taken for a listing."""
    text = head.lstrip()
    while text.startswith((b"<?", b"<!--")):  # the declaration, processing instructions, comments
        end = b"?>" if text.startswith(b"<?") else b"-->"
        text = text.partition(end)[2].lstrip()
    if not text.startswith(b"<") or text.startswith(b"<!"):  # <!DOCTYPE html> is not S3 XML
        return b""
    return text[1:].split(b">", 1)[0].split(None, 1)[0].rstrip(b"/") if len(text) > 1 else b""


def _local(root: bytes) -> bytes:
    return root.rpartition(b":")[2]  # <s3:VersioningConfiguration> is still S3's document


def _document_ok(name: str, root: bytes, body: bytes, operation_model: Any) -> bool:
    """Whether a 2xx body is the answer this operation should get (listings are checked apart)."""
    if _local(root) == b"ListBucketResult" and name.startswith("Get"):
        return True  # a store that ignores the sub-resource: storage.connection's hook names it unsupported
    if name == "GetBucketPolicy":  # a policy is JSON: a body that opens with an element is a web page
        return not root
    if not body.strip() or not _expects_xml(operation_model):
        return True
    if not root:
        return False
    wanted, local = DOCUMENT_ROOTS.get(name), _local(root)
    if local == b"Error":
        return True
    return local == wanted if wanted is not None else local.lower() != b"html"


def _missing_object_headers(name: str, status: int, headers: Any) -> bool:
    return name in OBJECT_OPERATIONS and status < 300 and not headers.get("etag") and not headers.get("last-modified")


@cache
def _expects_xml(operation_model: Any) -> bool:
    """Whether a successful answer to this operation is an XML document (GetObject's is the object's bytes,
    GetBucketPolicy's JSON, PutObject's empty)."""
    shape = operation_model.output_shape
    if shape is None or operation_model.name == "SelectObjectContent":
        return False
    payload = shape.serialization.get("payload")
    if payload:
        return bool(shape.members[payload].type_name == "structure")
    return any("location" not in member.serialization for member in shape.members.values())


def not_s3_guard(operation_model: Any, response_dict: dict[str, Any], **_: Any) -> None:
    """botocore's before-parse hook (S3's, STS's): an answer whose body should be S3/STS XML and is not, or an
    object answer without ETag and Last-Modified, becomes an error."""
    body = response_dict.get("body")
    status = response_dict.get("status_code")
    protocol = operation_model.metadata.get("protocol")
    if not isinstance(status, int) or protocol not in ("rest-xml", "query"):
        return
    name = operation_model.name
    headers = response_dict.get("headers") or {}
    if _missing_object_headers(name, status, headers):
        close = getattr(body, "close", None)
        if callable(close):  # GetObject's stream: its bytes are not read, its connection is let go
            close()
        _rewrite(response_dict, status, WITHOUT_OBJECT_HEADERS, protocol=protocol)
        return
    if not isinstance(body, bytes):
        return
    root = root_element(body[:1024])
    if status < 300:
        wanted = LISTING_ROOTS.get(name)
        if wanted is not None:
            if root == wanted:
                return
        elif _document_ok(name, root, body, operation_model):
            return
    elif root or not body.strip():
        return  # an error document (or a bare status, which botocore names by its status)
    content_type = str(headers.get("content-type", "") or "").split(";")[0].strip()[:60]
    if not body.strip():
        content_type = "an empty body"
    elif root and not (content_type and "html" in content_type):
        content_type = f"a <{root.decode('latin-1')[:40]}> document"
    elif not content_type or content_type.endswith("xml"):
        content_type = "a body that is not XML"
    _rewrite(response_dict, status, content_type, protocol=protocol)


def _escape(text: str) -> str:
    # xml.sax.saxutils.escape's three replacements: importing it loads urllib.request and http.client (~15 ms)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _rewrite(response_dict: dict[str, Any], status: int, content_type: str, *, protocol: str) -> None:
    """The answer as an S3 error document of s3safe's own code, carrying what the endpoint really answered."""
    # a 2xx becomes a 400: botocore raises for it, and its retry rules leave it alone (a wrong endpoint does
    # not get better); an error status is kept, so a 503 page is still retried
    response_dict["status_code"] = status if status >= 300 else 400
    error = (f"<Error><Code>{NOT_S3}</Code><Message>not S3 XML</Message><{STATUS}>{status}</{STATUS}>"
             f"<{CONTENT_TYPE}>{_escape(content_type)}</{CONTENT_TYPE}></Error>")  # fmt: skip
    if protocol == "query":  # STS's errors come wrapped, as its parser reads them
        error = f"<ErrorResponse>{error}</ErrorResponse>"
    response_dict["body"] = f'<?xml version="1.0" encoding="UTF-8"?>\n{error}'.encode()


def guard(client: Any) -> None:
    """not_s3_guard on a client of another XML service (STS): botocore raises for the rewritten answer only
    once its HTTP status follows the parsed one, which it arranges for S3 alone (handlers._update_status_code)."""
    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register_first(f"before-parse.{service}", not_s3_guard)
    client.meta.events.register_first(f"needs-retry.{service}", _status_follows)


def _status_follows(response: Any, **_: Any) -> None:
    if response is None:
        return
    http_response, parsed = response
    status = parsed.get("ResponseMetadata", {}).get("HTTPStatusCode", http_response.status_code)
    if isinstance(status, int) and status != http_response.status_code:
        http_response.status_code = status
