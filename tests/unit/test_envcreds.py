"""The environment's key pair is used without botocore only where botocore's chain would certainly pick it."""

from __future__ import annotations

from typing import Any

import pytest

from s3safe.core.settings import ConnectionSettings
from s3safe.storage import envcreds
from s3safe.storage.connection import Connection
from s3safe.storage.envcreds import StaticCredentials
from s3safe.storage.session import SavedProfile

KEYS = {"AWS_ACCESS_KEY_ID": "AKIAENVKEY", "AWS_SECRET_ACCESS_KEY": "env-secret-value"}


@pytest.fixture
def environ() -> dict[str, str]:
    return dict(KEYS)


def test_a_static_pair_with_nothing_before_it_is_read_directly(environ: dict[str, str]) -> None:
    assert envcreds.credentials(None, environ) == StaticCredentials("AKIAENVKEY", "env-secret-value", None)
    assert envcreds.credentials(None, {**environ, "AWS_SESSION_TOKEN": "tok"}) == StaticCredentials(
        "AKIAENVKEY", "env-secret-value", "tok"
    )


@pytest.mark.parametrize(
    "extra",
    [
        {"AWS_PROFILE": "work"},  # a named profile may take the environment's place
        {"AWS_DEFAULT_PROFILE": "work"},
        {"AWS_CREDENTIAL_EXPIRATION": "2030-01-01T00:00:00Z"},  # refreshable: botocore's job
        {"AWS_SECURITY_TOKEN": "legacy"},  # botocore prefers it to AWS_SESSION_TOKEN
        {"AWS_SESSION_TOKEN": ""},
        {"AWS_SECRET_ACCESS_KEY": ""},  # partial: botocore reports it
    ],
)
def test_anything_that_could_change_botocores_answer_leaves_it_to_botocore(
    environ: dict[str, str], extra: dict[str, str]
) -> None:
    assert envcreds.credentials(None, {**environ, **extra}) is None


def test_a_profile_option_leaves_it_to_botocore(environ: dict[str, str]) -> None:
    assert envcreds.credentials("work", environ) is None


def test_a_connection_with_a_saved_profile_selected_leaves_it_to_botocore(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in KEYS.items():
        monkeypatch.setenv(name, value)
    settings = ConnectionSettings(endpoint_url="http://127.0.0.1:9", allow_http=True, region="us-east-1")
    plain = Connection(settings, saved_profile=lambda _profile: None)
    assert plain._static_credentials() == StaticCredentials("AKIAENVKEY", "env-secret-value", None)
    asked: list[str | None] = []

    def selected(profile: str | None) -> SavedProfile:
        asked.append(profile)
        return SavedProfile("saved", lambda _name: pytest.fail("no secret is needed to decide"))

    saved = Connection(settings, saved_profile=selected)
    assert saved._static_credentials() is None
    assert saved._static_credentials() is None and asked == [None]  # asked once per connection


def test_the_region_is_botocores_first_choice() -> None:
    assert envcreds.region({"AWS_DEFAULT_REGION": "eu-west-3", "AWS_REGION": "us-west-2"}) == "eu-west-3"
    assert envcreds.region({"AWS_REGION": "us-west-2"}) is None


@pytest.mark.parametrize(
    ("config", "credentials", "region"),
    [
        (None, None, None),
        ("[default]\nregion = eu-west-3\ns3 =\n    addressing_style = path\n", None, "eu-west-3"),
        ("[profile default]\nregion = ap-south-1\n", "", "ap-south-1"),
        ("[default]\nregion = eu-west-3\n", "[default]\nregion = us-west-2\n", "us-west-2"),  # credentials are laid over
        ("[profile other]\nregion = eu-west-3\n", None, None),
        ("[default]\noutput = json\n", None, None),
    ],
)
def test_the_region_of_the_shared_files_is_the_one_botocore_reads(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch, config: str | None, credentials: str | None, region: str | None
) -> None:
    import botocore.session

    for name, text in (("AWS_CONFIG_FILE", config), ("AWS_SHARED_CREDENTIALS_FILE", credentials)):
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        monkeypatch.setenv(name, str(path))
    for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name, raising=False)
    assert envcreds.files_region(None) == (True, region)
    assert botocore.session.get_session().get_config_variable("region") == region
    conn = Connection(ConnectionSettings(endpoint_url="http://127.0.0.1:9", allow_http=True))
    assert conn.default_region == (region or "us-east-1") and conn._session is None  # no botocore session built for it


@pytest.mark.parametrize("environ", [{"AWS_PROFILE": "work"}, {"AWS_DEFAULT_PROFILE": "work"}])
def test_a_named_profile_or_an_unreadable_file_leaves_the_region_to_botocore(tmp_path: Any, environ: dict[str, str]) -> None:
    assert envcreds.files_region(None, environ) == (False, None)
    assert envcreds.files_region("work", {}) == (False, None)
    broken = tmp_path / "config"
    broken.write_text("[default\nregion = x\n")
    assert envcreds.files_region(None, {"AWS_CONFIG_FILE": str(broken)}) == (False, None)
