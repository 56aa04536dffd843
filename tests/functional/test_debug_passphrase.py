"""-vv request lines are masked of the passphrase like every other line, also before any object needed it (rt17 #7).

The passphrase appears in a key name; the GET line is logged before anything would load the passphrase."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
SECRET = "supersecretpass123"


def test_request_lines_mask_a_passphrase_in_a_key_name(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key=f"pp/{SECRET}.txt", Body=b"plain")
    args = ("--endpoint-url", moto.endpoint_url, "--allow-http", "-vv", "get", f"s3://{bucket}/pp/{SECRET}.txt", str(tmp_path) + "/")
    result = run_cli(*args, env={"S3SAFE_PASSPHRASE": SECRET})
    assert result.returncode == 0, result.stderr
    assert f"s3://{bucket}/pp/" in result.stderr  # the request lines are there
    assert SECRET not in result.stderr + result.stdout


def test_a_passphrase_file_is_masked_from_the_first_line_too(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """rt17 leftover: a --passphrase-file passphrase was registered for masking only when first used. Here it is
    never used: the object is stored unencrypted, so get refuses it (an error naming the key) before any
    decryption, after -vv has logged the requests that name the key."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key=f"pp/{SECRET}.txt", Body=b"plain")
    secret_file = tmp_path / "pass"
    secret_file.write_text(SECRET + "\n")
    secret_file.chmod(0o600)
    url = f"s3://{bucket}/pp/{SECRET}.txt"
    args = ("--endpoint-url", moto.endpoint_url, "--allow-http", "-vv", "get", url, str(tmp_path / "out") + "/")
    result = run_cli(*args, "--passphrase-file", str(secret_file))
    assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert f"s3://{bucket}/pp/" in result.stderr and "error:" in result.stderr  # request lines and the refusal
    assert SECRET not in result.stderr + result.stdout
