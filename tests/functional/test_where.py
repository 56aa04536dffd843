"""--where against moto: select exactly the right objects, and fetch only what the condition needs."""

from __future__ import annotations

import json
from collections.abc import Callable
from subprocess import CompletedProcess
from typing import Any

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]


@pytest.fixture
def mixed_bucket(moto_client: Any, acl_bucket: str) -> str:
    """Private and public, encrypted and unencrypted objects, one of them large."""
    put = moto_client.put_object
    put(Bucket=acl_bucket, Key="a/private-sse.txt", Body=b"1", ServerSideEncryption="AES256")
    put(Bucket=acl_bucket, Key="a/public-sse.txt", Body=b"22", ACL="public-read", ServerSideEncryption="AES256")
    put(Bucket=acl_bucket, Key="b/public-plain.txt", Body=b"333", ACL="public-read")
    put(Bucket=acl_bucket, Key="b/private-plain.bin", Body=b"x" * 3_000_000)
    put(Bucket=acl_bucket, Key="c/tagged.txt", Body=b"t", Tagging="team=blue", ServerSideEncryption="AES256")
    return acl_bucket


def _keys(result: CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [r["key"] for r in map(json.loads, result.stdout.splitlines()) if r["type"] == "object"]


def test_where_finds_public_objects_and_acl_set_fixes_them(run_cli: Run, moto: MotoServer, mixed_bucket: str) -> None:
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http", "--json")
    url = f"s3://{mixed_bucket}"
    public = run_cli(*base, "ls", "-r", "--where", "s3_acl_is_private = false", url)
    assert _keys(public) == ["a/public-sse.txt", "b/public-plain.txt"]
    fixed = run_cli(*base, "acl", "set", "private", "-r", "--where", "s3_acl_is_private = false", url)
    assert fixed.returncode == 0, fixed.stderr
    assert sum(json.loads(line).get("action") == "set-acl" for line in fixed.stdout.splitlines()) == 2
    assert _keys(run_cli(*base, "ls", "-r", "--where", "s3_acl_is_private = false", url)) == []


def test_where_finds_unencrypted_objects(run_cli: Run, moto: MotoServer, mixed_bucket: str) -> None:
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http", "--json")
    found = run_cli(*base, "ls", "-r", "--where", "s3_sse_algorithm <> 'AES256'", f"s3://{mixed_bucket}")
    assert _keys(found) == ["b/private-plain.bin", "b/public-plain.txt"]


def test_where_on_tags_metadata_and_combinations(run_cli: Run, moto: MotoServer, mixed_bucket: str) -> None:
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http", "--json")
    url = f"s3://{mixed_bucket}"
    assert _keys(run_cli(*base, "ls", "-r", "--where", "s3_tag('team') = 'blue'", url)) == ["c/tagged.txt"]
    combined = "s3_size_mb >= 1 OR (s3_name starts_with 'public' AND s3_ext isoneof {'.txt'})"
    assert _keys(run_cli(*base, "ls", "-r", "--where", combined, url)) == ["a/public-sse.txt", "b/private-plain.bin", "b/public-plain.txt"]


def test_listing_only_conditions_make_no_extra_requests(run_cli: Run, moto: MotoServer, mixed_bucket: str) -> None:
    moto.start_recording()
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "--json", "-v", "ls", "-r",
                     "--where", "s3_size > 2 AND s3_size < 1MB", f"s3://{mixed_bucket}")  # fmt: skip
    requests = moto.stop_recording()
    assert _keys(result) == ["b/public-plain.txt"]
    per_object = [r for r in requests if r["method"] == "HEAD" or "acl" in r["url"].split("?")[-1] or "tagging" in r["url"]]
    object_heads = [r for r in per_object if r["url"].rstrip("/").count("/") > 3]
    assert object_heads == []
    assert "extra requests: none" in result.stderr


def test_cheap_part_rules_out_objects_before_any_head(run_cli: Run, moto: MotoServer, mixed_bucket: str) -> None:
    moto.start_recording()
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "--json", "ls", "-r",
                     "--where", "s3_size > 1MB AND s3_sse_algorithm = 'AES256'", f"s3://{mixed_bucket}")  # fmt: skip
    requests = moto.stop_recording()
    assert _keys(result) == []
    heads = [r for r in requests if r["method"] == "HEAD" and "private-plain.bin" in r["url"]]
    assert len(heads) == 1  # only the one object over 1 MB needed its headers
    assert sum(r["method"] == "HEAD" for r in requests if "/a/" in r["url"] or "/c/" in r["url"]) == 0


def test_rm_with_where_and_a_syntax_error(run_cli: Run, moto: MotoServer, mixed_bucket: str) -> None:
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    url = f"s3://{mixed_bucket}"
    bad = run_cli(*base, "rm", "-r", "--where", "s3_sizemb > 1 AND s3_agedayz < 3", url)
    assert bad.returncode == 2
    lines = [line for line in bad.stderr.splitlines() if not line.startswith("s3safe: warning")]
    assert "did you mean 's3_agedays'" in lines[0]
    assert lines[1].strip() == "s3_sizemb > 1 AND s3_agedayz < 3"
    assert lines[2].index("^") == lines[1].index("s3_agedayz")
    gone = run_cli(*base, "--json", "rm", "-r", "--where", "s3_ext = '.bin'", url)
    assert gone.returncode == 0, gone.stderr
    assert _keys(run_cli(*base, "--json", "ls", "-r", url)) == ["a/private-sse.txt", "a/public-sse.txt", "b/public-plain.txt", "c/tagged.txt"]


def test_matches_runs_on_re2_with_unicode_classes_and_clear_errors(run_cli: Run, moto: MotoServer, moto_client: Any, acl_bucket: str) -> None:
    for key in ("docs/café-menu.txt", "docs/cafe-menu.txt", "docs/caféteria.txt", "docs/r\u00e9sum\u00e9 2024.pdf"):
        moto_client.put_object(Bucket=acl_bucket, Key=key, Body=b"x")
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http", "--json")
    url = f"s3://{acl_bucket}/docs/"
    # RE2's own \b and \w are ASCII; the language's are Unicode, as documented
    assert _keys(run_cli(*base, "ls", "-r", "--where", r"s3_name matches '\bcafé\b'", url)) == ["docs/café-menu.txt"]
    assert _keys(run_cli(*base, "ls", "-r", "--where", r"s3_name matches '^\w+\s\d+\.pdf$'", url)) == ["docs/résumé 2024.pdf"]
    refused = run_cli(*base[:-1], "ls", "-r", "--where", r"s3_name matches '[^\W5]'", url)
    assert refused.returncode == 2
    lines = [line for line in refused.stderr.splitlines() if "warning: using plain HTTP" not in line]
    assert lines[0].startswith("s3safe: error: invalid regular expression: a negated class"), refused.stderr
    assert lines[2].strip() == "^" and "re2" not in refused.stderr.lower() and "Traceback" not in refused.stderr
