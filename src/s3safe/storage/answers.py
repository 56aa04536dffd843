"""Answers that are not S3's: a body that is not S3 XML where botocore expects one.

botocore parses any 200 body it cannot read as XML into an empty result: a captive portal's or a wrong
endpoint's HTML page reads as an empty bucket (dangerous for `sync --purge` and `rm -r` decisions), a
`DeleteObjects` answered with HTML as "all deleted", and an HTML error page as an error without a code
("An error occurred () … (400)"). A `before-parse` hook turns such an answer into an S3 error document of
s3safe's own code, which storage/errors.classify names in one line. The answer's real status and
content type travel in the document; no message text is ever searched.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from xml.sax.saxutils import escape

NOT_S3 = "S3SafeNotS3Xml"  # the code the rewritten document carries
STATUS = "S3SafeStatus"  # the status the endpoint really answered
CONTENT_TYPE = "S3SafeContentType"  # what it said the body was

# a listing must be exactly this document, or it is not a listing (an empty one would read as "no objects")
LISTING_ROOTS = {
    "ListObjectsV2": b"ListBucketResult", "ListObjects": b"ListBucketResult",
    "ListObjectVersions": b"ListVersionsResult", "ListMultipartUploads": b"ListMultipartUploadsResult",
    "ListParts": b"ListPartsResult", "ListBuckets": b"ListAllMyBucketsResult",
}  # fmt: skip


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
    """botocore's before-parse.s3 hook: an answer whose body should be S3 XML and is not becomes an error."""
    body = response_dict.get("body")
    status = response_dict.get("status_code")
    if not isinstance(body, bytes) or not isinstance(status, int):
        return
    root = root_element(body[:1024])
    name = operation_model.name
    if status < 300:
        wanted = LISTING_ROOTS.get(name)
        if wanted is not None:
            if root == wanted:
                return
        elif not body.strip() or root or not _expects_xml(operation_model):
            return
    elif root or not body.strip():
        return  # an error document (or a bare status, which botocore names by its status)
    headers = response_dict.get("headers") or {}
    content_type = str(headers.get("content-type", "") or "").split(";")[0].strip()[:60]
    if not body.strip():
        content_type = "an empty body"
    elif root:
        content_type = f"a <{root.decode('latin-1')[:40]}> document"
    elif not content_type or content_type.endswith("xml"):
        content_type = "a body that is not XML"
    # a 2xx becomes a 400: botocore raises for it, and its retry rules leave it alone (a wrong endpoint does
    # not get better); an error status is kept, so a 503 page is still retried
    response_dict["status_code"] = status if status >= 300 else 400
    response_dict["body"] = (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{NOT_S3}</Code><Message>not S3 XML</Message>'
        f"<{STATUS}>{status}</{STATUS}><{CONTENT_TYPE}>{escape(content_type)}</{CONTENT_TYPE}></Error>"
    ).encode()
