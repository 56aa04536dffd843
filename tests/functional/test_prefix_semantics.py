"""`-r s3://b/foo` means the folder `foo/` plus the object `foo` itself, for every command that walks
(issue 13.4): `foobar`, `foo.txt` and `foo-archive/` are never touched. Run against a real (moto) server."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.crypto import age
from s3safe.crypto.digest import generate_digest_key
from s3safe.storage.connection import Connection
from s3safe.transfer.encryption import Decryption, Encryption
from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]

INSIDE = ["foo", "foo/a.txt", "foo/b/c.txt"]
OUTSIDE = ["fo", "foo-archive/x.txt", "foo.txt", "foobar", "foobar/y.txt"]


def _make_tree(client: Any, bucket: str, storage_class: str) -> str:
    client.create_bucket(Bucket=bucket, ObjectOwnership="ObjectWriter")  # ACLs enabled, for acl set
    for key in INSIDE + OUTSIDE:
        client.put_object(Bucket=bucket, Key=key, Body=b"x", StorageClass=storage_class)
    return bucket


@pytest.fixture
def tree(moto_client: Any, bucket_name: Callable[[], str]) -> str:
    return _make_tree(moto_client, bucket_name(), "STANDARD")


@pytest.fixture
def archived_tree(moto_client: Any, bucket_name: Callable[[], str]) -> str:
    return _make_tree(moto_client, bucket_name(), "GLACIER")  # restore acts on archived objects only


def _cli(run_cli: Run, moto: MotoServer, *args: str) -> list[dict[str, Any]]:
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "--json", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def _targets(records: list[dict[str, Any]], bucket: str) -> list[str]:
    """The keys named by action records (a target may carry a suffix such as ' -> private')."""
    keys = []
    for record in records:
        if record.get("type") == "action":
            keys.append(record["target"].split(" ")[0].removeprefix(f"s3://{bucket}/"))
    return sorted(keys)


def _keys(client: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


@pytest.mark.parametrize(
    "command",
    [
        ["acl", "set", "public-read", "--allow-public", "-r", "--dry-run"],
        ["meta", "set", "--set", "x-team=ops", "-r", "--dry-run"],
        ["restore", "-r", "--days", "1", "--dry-run"],
        ["rm", "-r", "--dry-run"],
    ],
    ids=["acl-set", "meta-set", "restore", "rm"],
)
def test_commands_that_walk_select_the_folder_and_the_object_itself(
    run_cli: Run, moto: MotoServer, tree: str, archived_tree: str, command: list[str]
) -> None:
    tree = archived_tree if command[0] == "restore" else tree
    records = _cli(run_cli, moto, *command, f"s3://{tree}/foo")
    assert _targets(records, tree) == INSIDE
    # with the slash: the folder alone
    assert _targets(_cli(run_cli, moto, *command, f"s3://{tree}/foo/"), tree) == INSIDE[1:]


def test_rm_r_deletes_the_folder_and_the_object_and_nothing_beside_them(
    run_cli: Run, moto: MotoServer, moto_client: Any, tree: str
) -> None:
    _cli(run_cli, moto, "rm", "-r", f"s3://{tree}/foo")
    assert _keys(moto_client, tree) == sorted(OUTSIDE)


def test_acl_set_r_makes_public_only_what_it_names(run_cli: Run, moto: MotoServer, moto_client: Any, tree: str) -> None:
    _cli(run_cli, moto, "acl", "set", "public-read", "--allow-public", "-r", f"s3://{tree}/foo")

    def public(key: str) -> bool:
        grants = moto_client.get_object_acl(Bucket=tree, Key=key)["Grants"]
        return any(g["Grantee"].get("URI", "").endswith("/AllUsers") for g in grants)

    assert [k for k in INSIDE + OUTSIDE if public(k)] == INSIDE


def test_ls_r_lists_the_folder_and_the_object(run_cli: Run, moto: MotoServer, tree: str) -> None:
    records = _cli(run_cli, moto, "ls", "-r", f"s3://{tree}/foo")
    assert sorted(r["key"] for r in records if r.get("type") == "object") == INSIDE


def test_rm_r_versions_stays_inside_the_folder(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for key in INSIDE + OUTSIDE:
        for body in (b"v1", b"v2"):
            moto_client.put_object(Bucket=bucket, Key=key, Body=body)
    _cli(run_cli, moto, "rm", "-r", "--versions", f"s3://{bucket}/foo")
    left = moto_client.list_object_versions(Bucket=bucket).get("Versions", [])
    assert sorted({v["Key"] for v in left}) == sorted(OUTSIDE)
    assert len(left) == 2 * len(OUTSIDE)


def test_reencrypt_r_considers_only_the_folder_and_the_object(moto_conn: Connection, tree: str) -> None:
    from s3safe.ops.reencrypt import reencrypt

    to = Encryption(format="age", digest_key=generate_digest_key(), recipients=(age.generate_identity()[1],)).validate()
    results = reencrypt(moto_conn, S3Url(tree, "foo"), to=to, decryption=Decryption(passphrase=lambda: "unused"),
                        recursive=True, gate=SafetyGate(dry_run=True))  # fmt: skip
    # plain objects are reported as skipped: the report names exactly what the walk selected
    assert sorted(r.target.removeprefix(f"s3://{tree}/") for r in results) == INSIDE


def test_uploads_abort_names_the_key_and_its_folder_not_its_neighbours(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    # created backwards: moto lists uploads as created (AWS by key), and `uploads ls` prints them by key either way
    for key in reversed(INSIDE + OUTSIDE):
        moto_client.create_multipart_upload(Bucket=bucket, Key=key)
    listed = _cli(run_cli, moto, "uploads", "ls", f"s3://{bucket}/foo")
    assert [r["key"] for r in listed if "upload_id" in r] == INSIDE
    _cli(run_cli, moto, "uploads", "abort", f"s3://{bucket}/foo")
    left = moto_client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert sorted(u["Key"] for u in left) == sorted(OUTSIDE)
