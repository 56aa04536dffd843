"""obstore's errors carry no status: storage.errors reads it from the text, never from a stray "403"."""

from __future__ import annotations

import obstore.exceptions as oex

from s3safe.core.errors import AccessDeniedError, NotFoundError, ServiceError, UsageError
from s3safe.storage.errors import translate


def test_a_timing_with_403_in_it_is_not_access_denied() -> None:
    exc = oex.GenericError("Generic S3 error: Error performing GET http://h/b/k in 12.403ms - HTTP error: something odd")
    error = translate(exc, action="download", bucket="b", key="k")
    assert not isinstance(error, AccessDeniedError | NotFoundError), error
    # obstore's words are its own, for --debug; the user reads s3safe's (outside tester's item 7d on #19)
    assert isinstance(error, ServiceError) and "Generic S3 error" not in str(error), error


def test_a_status_in_the_text_is_used() -> None:
    denied = oex.GenericError("Error performing PUT http://h/b/k in 1ms - Server returned non-2xx status code: 403 Forbidden: ")
    assert isinstance(translate(denied, action="upload to", bucket="b", key="k"), AccessDeniedError)
    dump = oex.GenericError("x - Server returned non-2xx status code: 503 Service Unavailable: Debug source: Generic { store: \"S3\" }")
    error = translate(dump, action="upload to", bucket="b", key="k")
    assert "HTTP 503" in str(error) and "Debug source" not in str(error), error


def test_the_code_of_the_error_document_is_used_never_words_of_its_message() -> None:
    body = "<Error><Code>InvalidArgument</Code><Message>AccessDenied NoSuchKey SignatureDoesNotMatch BadDigest</Message></Error>"
    exc = oex.GenericError(f"Error performing PUT http://h/b/k in 3ms - Server returned non-2xx status code: 400 Bad Request: {body}")
    error = translate(exc, action="upload to", bucket="b", key="k")
    assert isinstance(error, UsageError) and "(InvalidArgument)" in str(error), error
    assert (error.service_code, error.http_status) == ("InvalidArgument", 400)
    bare = oex.GenericError("Error performing PUT http://h/b/k in 3ms - Server returned non-2xx status code: 409 Conflict: AccessDenied")
    assert type(translate(bare, action="upload to", bucket="b", key="k")) is ServiceError
