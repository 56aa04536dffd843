"""The environment's key pair is used without botocore only where botocore's chain would certainly pick it."""

from __future__ import annotations

from pathlib import Path

import pytest

from s3safe.auth.index import INDEX_NAME, ProfileIndex, save_index
from s3safe.storage import envcreds
from s3safe.storage.envcreds import StaticCredentials

KEYS = {"AWS_ACCESS_KEY_ID": "AKIAENVKEY", "AWS_SECRET_ACCESS_KEY": "env-secret-value"}


@pytest.fixture
def environ(tmp_path: Path) -> dict[str, str]:
    return {**KEYS, "S3SAFE_CONFIG_DIR": str(tmp_path / "config")}


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
        {"S3SAFE_AUTH": "saved"},  # a saved s3safe profile goes first in the chain
    ],
)
def test_anything_that_could_change_botocores_answer_leaves_it_to_botocore(
    environ: dict[str, str], extra: dict[str, str]
) -> None:
    assert envcreds.credentials(None, {**environ, **extra}) is None


def test_a_profile_option_or_a_saved_default_leaves_it_to_botocore(environ: dict[str, str], tmp_path: Path) -> None:
    assert envcreds.credentials("work", environ) is None
    config = tmp_path / "config"
    config.mkdir()
    save_index(ProfileIndex(default="saved"), config / INDEX_NAME)  # `s3safe auth use saved`
    assert envcreds.credentials(None, environ) is None


def test_the_region_is_botocores_first_choice() -> None:
    assert envcreds.region({"AWS_DEFAULT_REGION": "eu-west-3", "AWS_REGION": "us-west-2"}) == "eu-west-3"
    assert envcreds.region({"AWS_REGION": "us-west-2"}) is None
