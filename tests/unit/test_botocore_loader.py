"""The S3 client is built without reading every service's folder in botocore's data (storage/session.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from botocore.exceptions import UnknownServiceError

from s3safe.storage.session import make_session


def _client(service: str) -> object:
    return make_session(None).create_client(
        service, endpoint_url="http://127.0.0.1:9", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="not-a-secret",
        region_name="us-east-1",
    )  # fmt: skip


def test_the_s3_client_and_its_paginator_read_only_s3s_own_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore

    data = Path(botocore.__file__).parent / "data"
    listed: list[Path] = []
    real = os.listdir

    def listdir(path: str | os.PathLike[str] = ".") -> list[str]:
        listed.append(Path(path))
        return real(path)

    monkeypatch.setattr(os, "listdir", listdir)
    client = _client("s3")
    client.get_paginator("list_objects_v2")  # type: ignore[attr-defined]
    assert data not in listed, "botocore listed every service it has data for"
    assert {p for p in listed if p.is_relative_to(data)} <= {data / "s3"}


def test_an_unknown_service_is_still_refused_with_botocores_list() -> None:
    with pytest.raises(UnknownServiceError) as refused:
        _client("no-such-service")
    assert "s3control" in str(refused.value)  # the list of every service, as botocore words it
    with pytest.raises(UnknownServiceError):
        _client("../s3")  # a path is no service name


def test_every_service_is_still_listed_for_whoever_asks() -> None:
    names = list(make_session(None).get_available_services())
    assert "s3" in names and "sts" in names and len(names) > 100


def test_endpoints_configured_outside_s3safe_are_not_used(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An endpoint_url in ~/.aws/config (or AWS_ENDPOINT_URL_<SERVICE>) reached botocore's clients unchecked: plain
    HTTP with no --allow-http, the session token in the clear, and a data plane that went elsewhere (rt21)."""
    config = tmp_path / "aws-config"
    config.write_text("[default]\nendpoint_url = http://127.0.0.1:9\n\n[profile other]\nservices = trap\n\n"
                      "[services trap]\ns3 =\n  endpoint_url = http://127.0.0.1:9\n")  # fmt: skip
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_ENDPOINT_URL_STS", "http://127.0.0.1:9")
    for profile in (None, "other"):
        session = make_session(profile)
        s3 = session.create_client("s3", region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x")
        sts = session.create_client("sts", region_name="eu-west-1", aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="x")
        assert s3.meta.endpoint_url.startswith("https://") and "127.0.0.1" not in s3.meta.endpoint_url
        assert sts.meta.endpoint_url.startswith("https://") and "127.0.0.1" not in sts.meta.endpoint_url
    # what s3safe resolved and checked itself is still used
    assert _client("s3").meta.endpoint_url == "http://127.0.0.1:9"  # type: ignore[attr-defined]
