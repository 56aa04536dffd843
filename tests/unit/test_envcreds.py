"""The environment's key pair is used without botocore only where botocore's chain would certainly pick it."""

from __future__ import annotations

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
