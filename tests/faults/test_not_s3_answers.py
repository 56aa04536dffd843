"""Answers that are not S3's, and what s3safe says about them (issue #19, outside tester's items 6, 7, 10).

A captive portal or a wrong endpoint answers with an HTML page: a listing read from it must never look like
an empty bucket (sync --purge, rm -r), and every such answer is one s3safe line with a documented exit code,
never botocore's or obstore's raw text. A SignatureDoesNotMatch document's echo of what was signed is never
shown, not even under --debug.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request, Rewritten, build_response
from tests.servers.moto import MotoServer

PAGE = b"<!DOCTYPE html>\n<html><head><title>Sign in to the Wi-Fi</title></head><body>Welcome</body></html>"
PLAIN_HTTP = "s3safe: warning: using plain HTTP"


def _page(select: Callable[[Request], bool], status: int = 200, *, body: bytes = PAGE, content_type: str = "text/html",
          headers: dict[str, str] | None = None) -> FaultPlan:  # fmt: skip
    def rewrite(request: Request, _status: int, _headers: dict[str, str], _body: bytes) -> Rewritten | None:
        if not select(request):
            return None
        return Rewritten(build_response(status, {"Content-Type": content_type, **(headers or {})}, body))

    return FaultPlan(rewrite_response=rewrite)


def _errors(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if not line.startswith(PLAIN_HTTP)]


@pytest.fixture
def bucket(proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]) -> str:
    name = bucket_name("notxml")
    client = proxied.client(moto.endpoint_url)
    client.create_bucket(Bucket=name)
    client.put_object(Bucket=name, Key="k.txt", Body=b"hello")
    return name


def _listing(bucket: str) -> Callable[[Request], bool]:
    return lambda r: r.method == "GET" and r.target.split("?")[0] in (f"/{bucket}", f"/{bucket}/") and "?" in r.target


def test_a_listing_answered_with_an_html_page_is_an_error_not_an_empty_bucket(
    proxy: FaultProxy, proxied: Target, bucket: str, tmp_path: Path
) -> None:
    """botocore's paginator (ls) and obstore's listing (get -r) both read the page as 'no objects' before."""
    proxy.set_plan(_page(_listing(bucket)))
    line = (f"s3safe: error: cannot list s3://{bucket}: the endpoint answered a listing with text/html, not S3 XML"
            " — is --endpoint-url right?")  # fmt: skip
    listed = proxied.run("--retries", "0", "ls", f"s3://{bucket}/", timeout=120)
    assert (listed.returncode, _errors(listed.stderr), listed.stdout) == (1, [line], ""), listed.stderr[-2000:]
    fetched = proxied.run("--retries", "0", "get", "-r", f"s3://{bucket}/", str(tmp_path / "out"), timeout=120)
    assert (fetched.returncode, _errors(fetched.stderr)) == (1, [line]), fetched.stderr[-2000:]


def test_a_copy_answered_200_with_html_says_so_not_http_500(proxy: FaultProxy, proxied: Target, bucket: str) -> None:
    """botocore calls an unreadable 200 to CopyObject an HTTP 500: s3safe said 'HTTP 500 (500)' (item 7a)."""
    proxy.set_plan(_page(lambda r: r.method == "PUT" and "x-amz-copy-source" in r.headers))
    result = proxied.run("--retries", "0", "cp", f"s3://{bucket}/k.txt", f"s3://{bucket}/k2.txt", timeout=120)
    assert result.returncode == 5, result.stderr[-2000:]
    assert (f"FAILED copy s3://{bucket}/k2.txt: cannot copy s3://{bucket}/k.txt: the endpoint answered HTTP 200 with"
            " text/html, not S3 XML — is --endpoint-url right?") in result.stderr, result.stderr[-2000:]  # fmt: skip
    # as a status, not inside a port number (the plain-HTTP warning names 127.0.0.1:35005)
    assert not re.search(r"\b500\b", result.stdout + result.stderr), result.stderr


def test_a_400_with_an_html_body_is_one_s3safe_line(proxy: FaultProxy, proxied: Target, bucket: str) -> None:
    """botocore's own words ('An error occurred () when calling …') reached the user before (item 7b)."""
    proxy.set_plan(_page(lambda r: r.method == "GET" and r.target.startswith(f"/{bucket}/k.txt?acl"), 400))
    result = proxied.run("--retries", "0", "acl", "get", f"s3://{bucket}/k.txt", timeout=120)
    assert (result.returncode, _errors(result.stderr)) == (1, [
        f"s3safe: error: cannot read the ACL of s3://{bucket}/k.txt: the endpoint answered HTTP 400 with text/html, not"
        " S3 XML — is --endpoint-url right?"]), result.stderr[-2000:]  # fmt: skip


def test_a_400_to_a_put_without_sse_c_does_not_blame_sse_c(proxy: FaultProxy, proxied: Target, bucket: str, tmp_path: Path) -> None:
    """A body-less 400 to a PUT named a missing SSE-C key (and exit 4) though no write needs one (item 7c)."""
    source = tmp_path / "up.txt"
    source.write_bytes(b"u" * 10)
    proxy.set_plan(_page(lambda r: r.method == "PUT" and r.target.startswith(f"/{bucket}/up.txt"), 400, body=b""))
    result = proxied.run("--retries", "0", "put", str(source), f"s3://{bucket}/up.txt", timeout=120)
    assert (result.returncode, _errors(result.stderr)) == (1, [
        f"s3safe: error: cannot upload to s3://{bucket}/up.txt: the server answered HTTP 400 without a reason"]), result.stderr[-2000:]  # fmt: skip


def test_obstore_generic_errors_are_said_in_s3safe_words(proxy: FaultProxy, proxied: Target, bucket: str, tmp_path: Path) -> None:
    """A 200 to a PUT without an ETag: obstore's 'Generic S3 error: Unable to extract metadata …' was shown (7d)."""
    source = tmp_path / "up.txt"
    source.write_bytes(b"u" * 10)
    proxy.set_plan(_page(lambda r: r.method == "PUT" and r.target.startswith(f"/{bucket}/up.txt"), body=b""))
    result = proxied.run("--retries", "0", "put", str(source), f"s3://{bucket}/up.txt", timeout=120)
    assert (result.returncode, _errors(result.stderr)) == (1, [
        f"s3safe: error: cannot upload to s3://{bucket}/up.txt: the endpoint answered the request without the ETag"
        " header S3 always sends — is --endpoint-url right?"]), result.stderr[-2000:]  # fmt: skip


def test_a_single_get_whose_object_is_not_there_says_it_does_not_exist(
    proxy: FaultProxy, proxied: Target, bucket: str, tmp_path: Path
) -> None:
    """A single `get` lists nothing: 'deleted after it was listed' was wrong there (item 7e). The HEAD answers,
    the GET finds no object (as an eventually consistent or flaky store can)."""
    missing = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does'
               b" not exist.</Message></Error>")  # fmt: skip
    proxy.set_plan(_page(lambda r: r.method == "GET" and r.target.startswith(f"/{bucket}/k.txt"), 404, body=missing,
                         content_type="application/xml"))  # fmt: skip
    for into in (str(tmp_path / "k.txt"), "-"):
        result = proxied.run("--retries", "0", "get", f"s3://{bucket}/k.txt", into, timeout=120)
        assert (result.returncode, _errors(result.stderr), result.stdout) == (3, [
            f"s3safe: error: not found: object s3://{bucket}/k.txt does not exist"], ""), result.stderr[-2000:]  # fmt: skip


ECHOED = ("AWSAccessKeyId", "StringToSign", "SignatureProvided", "StringToSignBytes", "CanonicalRequest")


def test_a_signature_error_document_is_redacted_under_debug(proxy: FaultProxy, proxied: Target, bucket: str) -> None:
    """S3's SignatureDoesNotMatch echoes the signature, the string signed and the canonical request; --debug
    printed them (botocore's body log, the parsed error) (item 10)."""
    fields = "".join(f"<{name}>leak{name}\nline2</{name}>" for name in ECHOED)
    document = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code><Message>The request'
                f" signature we calculated does not match</Message>{fields}<RequestId>r1</RequestId></Error>").encode()  # fmt: skip
    proxy.set_plan(_page(lambda r: r.target.startswith(f"/{bucket}"), 403, body=document, content_type="application/xml"))
    result = proxied.run("--debug", "--retries", "0", "ls", f"s3://{bucket}/", timeout=120)
    assert result.returncode == 4, result.stderr[-3000:]
    assert "SignatureProvided" in result.stderr  # the document was logged: the test sees what --debug shows
    assert "leak" not in result.stdout + result.stderr, [line for line in result.stderr.splitlines() if "leak" in line][:5]
    assert _errors(result.stderr)[-1] == ("s3safe: error: credential problem: the secret access key does not match the"
                                          " access key ID (SignatureDoesNotMatch) (check AWS_ACCESS_KEY_ID/"
                                          "AWS_SECRET_ACCESS_KEY, --profile, or run 'aws configure')")  # fmt: skip


# what a captive portal or a wrong --endpoint-url sends to every request (outside tester rt17, finding 05): an
# element for a root, so it reads as XML, and no ETag or Last-Modified, so a HEAD reads as an object's answer
PORTAL = b"<html><body>Login to WiFi</body></html>"
WRONG = "— is --endpoint-url right?"


def _run(proxied: Target, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str], str]:
    """One command line in this process (no server state changes: what matters is the answer it reads)."""
    from s3safe.cli.main import invoke

    code = invoke([*proxied.args, "--retries", "0", *args])
    out, err = capsys.readouterr()
    return code, _errors(err), out


def test_an_endpoint_answering_every_request_with_html_is_never_taken_for_s3(
    proxy: FaultProxy, proxied: Target, bucket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each of these printed a made-up answer with exit 0 (info: versioning never enabled, BPA 0 of 4; acl get:
    'private (owner None)'; meta get: the page as an object; get: the page saved 'verified by size'), or
    crashed with "internal error: KeyError: 'GetCallerIdentityResult'" (audit, logging enable)."""
    proxy.set_plan(_page(lambda _request: True, body=PORTAL))
    html = f"the endpoint answered HTTP 200 with text/html, not S3 XML {WRONG}"
    headless = f"the endpoint answered HTTP 200 without the ETag and Last-Modified headers S3 always sends {WRONG}"
    expected = {
        ("info", f"s3://{bucket}"): f"cannot read versioning of s3://{bucket}: {html}",
        ("audit", f"s3://{bucket}"): f"cannot read versioning of s3://{bucket}: {html}",
        ("acl", "get", f"s3://{bucket}/k.txt"): f"cannot read the ACL of s3://{bucket}/k.txt: {html}",
        ("meta", "get", f"s3://{bucket}/k.txt"): f"cannot read metadata of s3://{bucket}/k.txt: {headless}",
        ("get", f"s3://{bucket}/k.txt", str(tmp_path / "out") + "/"): f"cannot read metadata of s3://{bucket}/k.txt: {headless}",
        ("logging", "enable", f"s3://{bucket}", "--target", f"s3://{bucket}-logs/x/"):
            f"cannot read versioning of s3://{bucket}-logs: {html}",
    }  # fmt: skip
    for args, line in expected.items():
        assert _run(proxied, capsys, *args) == (1, [f"s3safe: error: {line}"], ""), args
    assert not [path for path in tmp_path.rglob("*") if path.is_file()]  # the page was saved as backup.tar before


def test_sts_answered_with_html_is_one_line_not_an_internal_error(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """STS's query parser raised KeyError 'GetCallerIdentityResult' on the page (`logging enable` asks STS for
    the account that may write to the log bucket)."""
    proxied.client(moto.endpoint_url).create_bucket(Bucket=f"{bucket}-logs")
    proxy.set_plan(_page(lambda request: request.method == "POST" and request.target in ("/", ""), body=PORTAL))
    code, errors, _ = _run(proxied, capsys, "logging", "enable", f"s3://{bucket}", "--target", f"s3://{bucket}-logs/x/")
    assert (code, errors) == (1, [f"s3safe: error: cannot ask STS who the credentials belong to: the endpoint answered"
                                  f" HTTP 200 with text/html, not S3 XML {WRONG}"]), errors  # fmt: skip


def test_an_object_get_through_obstore_without_etag_and_last_modified_is_not_s3(
    proxy: FaultProxy, proxied: Target, bucket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The listing is S3's, the object's GET (obstore's path) is a page as long as the object: obstore read it as
    an object of 1970 without an ETag, and the page was saved 'verified by size'."""
    page = b"<p>Hi"  # the length of k.txt's b"hello"
    proxy.set_plan(_page(lambda request: request.method == "GET" and request.target == f"/{bucket}/k.txt", body=page))
    code, errors, _ = _run(proxied, capsys, "get", "-r", f"s3://{bucket}/", str(tmp_path / "out"))
    assert code != 0 and any(f"s3://{bucket}/k.txt" in line and "without the ETag and Last-Modified headers S3 always"
                             " sends" in line for line in errors), errors  # fmt: skip
    assert not (tmp_path / "out" / "k.txt").exists()
