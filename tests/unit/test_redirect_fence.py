"""The redirect fence given to every obstore store (storage.connection.redirect_fence): only the endpoint's host
is reached directly; a proxy set in the environment is left in charge (the fence is then off, as the README says)."""

from __future__ import annotations

import pytest

from s3safe.storage.connection import REDIRECT_FENCE, redirect_fence
from s3safe.storage.errors import translate


@pytest.fixture(autouse=True)
def _no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_a_custom_endpoint_is_the_only_host_reached_directly() -> None:
    assert redirect_fence("https://minio.internal:9000") == {"proxy_url": REDIRECT_FENCE, "proxy_excludes": "minio.internal"}


def test_aws_is_reached_directly_on_its_own_domains() -> None:
    assert redirect_fence(None)["proxy_excludes"] == "amazonaws.com,amazonaws.com.cn"


def test_a_proxy_in_the_environment_turns_the_fence_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("https_proxy", "http://proxy.corp:3128")
    assert redirect_fence("https://minio.internal:9000") == {}


def test_a_request_the_fence_refused_is_named_as_a_redirect_to_another_host() -> None:
    import obstore.exceptions as oex

    text = ("Generic S3 error: Error performing GET http://127.0.0.1:9000/b/k in 1ms - HTTP error: error sending request "
            'Debug source: ConnectError("tcp connect error", 127.0.0.1:0, Os { code: 111 })')  # fmt: skip
    error = translate(oex.GenericError(text), action="download", bucket="b", key="k")
    assert "redirect to another host" in str(error) and "s3://b/k" in str(error) and error.exit_code == 1
