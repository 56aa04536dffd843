"""Exit codes (DESIGN §4) and the translation of botocore errors into the library's own."""

from __future__ import annotations

import pytest
from botocore import exceptions as bex

from s3safe.core.errors import (
    EXIT_ACCESS,
    EXIT_AUDIT,
    EXIT_ERROR,
    EXIT_INTEGRITY,
    EXIT_INTERRUPTED,
    EXIT_NOT_FOUND,
    EXIT_OK,
    EXIT_PARTIAL,
    EXIT_REFUSED,
    EXIT_USAGE,
    AccessDeniedError,
    AuditFindings,
    IntegrityError,
    NotFoundError,
    PartialFailure,
    S3SafeError,
    SafetyRefusal,
    ServiceError,
    UsageError,
    exit_code_for,
)
from s3safe.core.redact import register_secret
from s3safe.storage.errors import translate, translated


def test_documented_exit_code_numbers() -> None:
    """README/DESIGN: 0 ok · 1 error · 2 usage · 3 not found · 4 access · 5 partial · 6 integrity · 7 refused · 8 audit."""
    assert (EXIT_OK, EXIT_ERROR, EXIT_USAGE, EXIT_NOT_FOUND, EXIT_ACCESS) == (0, 1, 2, 3, 4)
    assert (EXIT_PARTIAL, EXIT_INTEGRITY, EXIT_REFUSED, EXIT_AUDIT) == (5, 6, 7, 8)


@pytest.mark.parametrize(
    ("exc", "code"),
    [
        (S3SafeError("x"), 1),
        (ServiceError("x"), 1),
        (UsageError("x"), 2),
        (NotFoundError("x"), 3),
        (AccessDeniedError("x"), 4),
        (PartialFailure("x", failed=1, succeeded=2), 5),
        (IntegrityError("x"), 6),
        (SafetyRefusal("x"), 7),
        (AuditFindings("x"), 8),
        (KeyboardInterrupt(), EXIT_INTERRUPTED),
        (ValueError("x"), 1),
        (RuntimeError("x"), 1),
    ],
)
def test_exit_code_for(exc: BaseException, code: int) -> None:
    assert exit_code_for(exc) == code


def test_error_text_is_message_plus_hint() -> None:
    assert str(UsageError("bad thing")) == "bad thing"
    err = UsageError("bad thing", hint="do this")
    assert "bad thing" in str(err) and "do this" in str(err)
    assert err.message == "bad thing" and err.hint == "do this"


def test_partial_failure_keeps_its_counts() -> None:
    err = PartialFailure("2 of 5 failed", failed=2, succeeded=3)
    assert (err.failed, err.succeeded) == (2, 3)


# --- ClientError translation ------------------------------------------------------------------------


def client_error(code: str, status: int, message: str = "", operation: str = "PutObject") -> bex.ClientError:
    response = {"Error": {"Code": code, "Message": message or f"{code} happened"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return bex.ClientError(response, operation)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("code", "status"),
    [
        ("InvalidAccessKeyId", 403),
        ("SignatureDoesNotMatch", 403),
        ("ExpiredToken", 400),
        ("InvalidToken", 400),
        ("RequestTimeTooSkewed", 403),
    ],
)
def test_credential_problems_are_access_errors_with_a_hint(code: str, status: int) -> None:
    err = translate(client_error(code, status), action="upload", bucket="b", key="k")
    assert isinstance(err, AccessDeniedError)
    assert exit_code_for(err) == 4
    assert code in str(err)
    assert err.hint and "--profile" in err.hint


@pytest.mark.parametrize(("code", "status"), [("AccessDenied", 403), ("AllAccessDisabled", 403), ("403", 403), ("", 403)])
def test_access_denied(code: str, status: int) -> None:
    err = translate(client_error(code, status), action="upload", bucket="b", key="dir/k")
    assert isinstance(err, AccessDeniedError)
    assert exit_code_for(err) == 4
    assert "s3://b/dir/k" in str(err)


@pytest.mark.parametrize(
    ("code", "status", "key", "what"),
    [
        ("NoSuchBucket", 404, None, "bucket"),
        ("NoSuchBucket", 404, "k", "bucket"),
        ("NoSuchKey", 404, "k", "object"),
        ("404", 404, "k", "object"),  # HEAD has no body, only the status
        ("", 404, "k", "object"),
        ("NoSuchUpload", 404, "k", "multipart upload"),
        ("NoSuchVersion", 404, "k", "version"),
    ],
)
def test_not_found(code: str, status: int, key: str | None, what: str) -> None:
    err = translate(client_error(code, status, operation="HeadObject"), action="read", bucket="b", key=key)
    assert isinstance(err, NotFoundError)
    assert exit_code_for(err) == 3
    assert what in str(err)
    # a missing bucket is named alone, whatever key the request named
    assert ("s3://b/k" if key and what != "bucket" else "s3://b does not exist") in str(err)


@pytest.mark.parametrize("code", ["BadDigest", "InvalidDigest", "XAmzContentSHA256Mismatch"])
def test_integrity_failures(code: str) -> None:
    err = translate(client_error(code, 400), action="upload", bucket="b", key="k")
    assert isinstance(err, IntegrityError)
    assert exit_code_for(err) == 6
    assert code in str(err)


def test_acls_disabled_is_a_usage_error_that_says_so() -> None:
    err = translate(
        client_error("AccessControlListNotSupported", 400, "The bucket does not allow ACLs"),
        action="set the ACL of",
        bucket="b",
        key="k",
    )
    assert isinstance(err, UsageError)
    assert exit_code_for(err) == 2
    assert "ACLs disabled" in str(err)
    assert "BucketOwnerEnforced" in str(err)


@pytest.mark.parametrize("status", [403, 400])
def test_invalid_object_state_is_a_usage_error_even_with_403(status: int) -> None:
    """AWS answers GetObject on an archived object with 403 InvalidObjectState: not an access problem."""
    err = translate(client_error("InvalidObjectState", status, operation="GetObject"), action="download", bucket="b", key="k")
    assert isinstance(err, UsageError)
    assert exit_code_for(err) == 2
    assert "storage class" in str(err)


@pytest.mark.parametrize(
    "code", ["InvalidArgument", "MalformedXML", "KeyTooLongError", "EntityTooSmall", "InvalidBucketName", "MetadataTooLarge"]
)
def test_request_problems_are_usage_errors(code: str) -> None:
    err = translate(client_error(code, 400), action="upload", bucket="b", key="k")
    assert isinstance(err, UsageError)
    assert code in str(err)


@pytest.mark.parametrize(
    ("code", "needle"),
    [("BucketAlreadyOwnedByYou", "yours"), ("BucketAlreadyExists", "another account"), ("BucketNotEmpty", "not empty")],
)
def test_bucket_creation_and_removal_errors(code: str, needle: str) -> None:
    err = translate(client_error(code, 409, operation="CreateBucket"), action="create", bucket="b")
    assert isinstance(err, UsageError)
    assert needle in str(err)


@pytest.mark.parametrize(("code", "status"), [("InternalError", 500), ("SlowDown", 503), ("ServiceUnavailable", 503)])
def test_server_trouble_is_a_general_error(code: str, status: int) -> None:
    err = translate(client_error(code, status), action="upload", bucket="b", key="k")
    assert type(err) is ServiceError
    assert exit_code_for(err) == 1
    assert code in str(err)


@pytest.mark.parametrize("code", ["InternalError", "InvalidArgument", "BadDigest", "InvalidObjectState"])
def test_server_messages_are_redacted(code: str) -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    register_secret(secret)
    err = translate(
        client_error(code, 400, f"the request carried {secret} and X-Amz-Signature={'ab' * 32}"),
        action="upload",
        bucket="b",
        key="k",
    )
    assert secret not in str(err)
    assert "ab" * 32 not in str(err)
    assert "the request carried" in str(err)  # the rest of the message is kept


# --- other botocore exceptions ----------------------------------------------------------------------


def test_no_credentials() -> None:
    err = translate(bex.NoCredentialsError(), action="list")
    assert isinstance(err, AccessDeniedError)
    assert exit_code_for(err) == 4


def test_partial_credentials() -> None:
    err = translate(bex.PartialCredentialsError(provider="env", cred_var="AWS_SECRET_ACCESS_KEY"), action="list")
    assert exit_code_for(err) == 4


def test_unknown_profile() -> None:
    err = translate(bex.ProfileNotFound(profile="x"), action="list")
    assert isinstance(err, UsageError)
    assert exit_code_for(err) == 2
    assert "(x)" in str(err)


def test_endpoint_unreachable() -> None:
    err = translate(bex.EndpointConnectionError(endpoint_url="https://s3.example:9000"), action="list")
    assert type(err) is ServiceError
    assert exit_code_for(err) == 1
    assert "https://s3.example:9000" in str(err)
    assert err.hint and "--endpoint-url" in err.hint


def test_tls_failure_points_at_ca_bundle() -> None:
    err = translate(
        bex.SSLError(endpoint_url="https://s3.example", error=Exception("certificate verify failed")), action="list", bucket="b"
    )
    assert exit_code_for(err) == 1
    assert err.hint and "--ca-bundle" in err.hint


def test_parameter_validation_is_one_usage_line() -> None:
    err = translate(bex.ParamValidationError(report="Invalid bucket name\nmore detail"), action="list")
    assert isinstance(err, UsageError)
    assert "\n" not in str(err)


def test_local_file_errors() -> None:
    assert exit_code_for(translate(FileNotFoundError(2, "No such file", "/tmp/x"), action="upload")) == 3
    assert exit_code_for(translate(PermissionError(13, "Permission denied", "/tmp/x"), action="upload")) == 4


def test_library_errors_pass_through_unchanged() -> None:
    original = IntegrityError("checksum mismatch")
    assert translate(original, action="upload") is original


def test_unexpected_exceptions_are_redacted_service_errors() -> None:
    secret = "passphrase-of-some-length"
    register_secret(secret)
    err = translate(RuntimeError(f"boom {secret}"), action="upload", bucket="b", key="k")
    assert type(err) is ServiceError
    assert secret not in str(err)
    assert "RuntimeError" in str(err)


# --- the context manager ----------------------------------------------------------------------------


def test_translated_reraises_as_library_error() -> None:
    with pytest.raises(NotFoundError) as info, translated("read", bucket="b", key="k"):
        raise client_error("NoSuchKey", 404)
    assert info.value.__suppress_context__  # `from None`: no botocore traceback chained to the user's error


def test_translated_leaves_library_errors_and_interrupts_alone() -> None:
    with pytest.raises(SafetyRefusal), translated("delete", bucket="b"):
        raise SafetyRefusal("no")
    with pytest.raises(KeyboardInterrupt), translated("delete", bucket="b"):
        raise KeyboardInterrupt


def test_translated_is_silent_without_errors() -> None:
    with translated("read", bucket="b"):
        value = 1
    assert value == 1


def test_a_404_to_a_request_naming_no_bucket_is_not_a_missing_bucket() -> None:
    """rt17 #9: `jobs ls` against moto (no S3 Control: 404, an HTML page) said "the bucket does not exist"."""
    err = translate(client_error("404", 404, "Not Found", operation="ListJobs"), action="list S3 Batch Operations jobs")
    assert isinstance(err, NotFoundError) and exit_code_for(err) == 3
    assert "bucket" not in str(err) and str(err).startswith("cannot list S3 Batch Operations jobs: the endpoint has no such API")
    named = translate(client_error("NoSuchBucket", 404, operation="ListObjectsV2"), action="list", bucket="b")
    assert "bucket s3://b does not exist" in str(named)  # a request naming a bucket keeps its wording
