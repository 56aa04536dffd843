"""The shell's path parser: current location, relative S3 paths, argument rewriting and key completion."""

from __future__ import annotations

import posixpath

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3safe.core.errors import UsageError
from s3safe.ops.console import TOP, Location, change_dir, complete_path, positionals, resolve, rewrite_args

BUCKETS = st.sampled_from(["alpha", "beta-1", "c.d.e"])
NAMES = st.from_regex(r"[a-z0-9][a-z0-9-]{1,4}[a-z0-9]", fullmatch=True)  # valid as bucket names and as keys
SEGMENTS = st.one_of(NAMES, st.just(".."), st.just("."), st.just(""))
LOCATIONS = st.one_of(
    st.just(Location()),
    st.builds(lambda b, parts: Location(b, "".join(p + "/" for p in parts)), BUCKETS, st.lists(NAMES, max_size=3)),
)


def test_prompt_and_url() -> None:
    assert Location().prompt == "s3safe /> "
    assert Location("b", "docs/2026/").prompt == "s3safe s3://b/docs/2026/> "
    with pytest.raises(ValueError, match="ends in"):
        Location("b", "docs")


@pytest.mark.parametrize(
    ("cwd", "path", "expected"),
    [
        (Location(), "bucket", "s3://bucket/"),
        (Location(), "bucket/a/b.txt", "s3://bucket/a/b.txt"),
        (Location("b", "p/"), "x.txt", "s3://b/p/x.txt"),
        (Location("b", "p/"), "sub/", "s3://b/p/sub/"),
        (Location("b", "p/q/"), "../x", "s3://b/p/x"),
        (Location("b", "p/"), "..", "s3://b/"),
        (Location("b", ""), "..", TOP),
        (Location("b", "p/"), ".", "s3://b/p/"),
        (Location("b", "p/"), "/other/k", "s3://other/k"),
        (Location("b", "p/"), "/", TOP),
        (Location("b", "p/"), "s3://z/../x", "s3://z/../x"),  # URLs are never rewritten
        (Location("b", "p/"), "a//b/./c/..", "s3://b/p/a/b/"),
    ],
)
def test_resolve(cwd: Location, path: str, expected: str) -> None:
    assert resolve(cwd, path) == expected


def _model(cwd: Location, path: str) -> list[str]:
    """Reference model: POSIX path normalisation below a root, where the first segment is the bucket."""
    joined = posixpath.join("/" + "/".join(cwd.segments()), path)
    normal = posixpath.normpath(joined)
    return [s for s in normal.split("/") if s]


@given(LOCATIONS, st.lists(SEGMENTS, max_size=6), st.booleans())
def test_resolve_matches_posix_normalisation(cwd: Location, segments: list[str], absolute: bool) -> None:
    path = ("/" if absolute else "") + "/".join(segments)
    result = resolve(cwd, path)
    expected = _model(cwd, path)
    if not expected:
        assert result == TOP
        return
    assert result.startswith("s3://")
    bucket, _, key = result[5:].partition("/")
    assert [bucket, *[k for k in key.split("/") if k]] == expected
    assert "/./" not in result and "/../" not in result and "//" not in result[5:]


@given(LOCATIONS, st.lists(SEGMENTS, max_size=6))
def test_change_dir_always_lands_on_a_valid_location(cwd: Location, segments: list[str]) -> None:
    path = "/".join(segments)
    new = change_dir(cwd, path)
    assert new.prefix == "" or new.prefix.endswith("/")
    assert all(part not in ("", ".", "..") for part in new.prefix.split("/")[:-1])
    assert (new.bucket is None) == (path == "" or not _model(cwd, path))  # a bare `cd` goes to the top


@given(LOCATIONS, NAMES)
def test_cd_into_a_folder_and_back_up_returns(cwd: Location, name: str) -> None:
    assert change_dir(change_dir(cwd, name), "..") == cwd


@given(LOCATIONS, BUCKETS, st.lists(NAMES, max_size=3))
def test_absolute_paths_ignore_the_current_location(cwd: Location, bucket: str, parts: list[str]) -> None:
    key = "/".join(parts)
    assert resolve(cwd, f"/{bucket}/{key}") == f"s3://{bucket}/{key}"


def test_cd_to_an_invalid_bucket_is_refused() -> None:
    with pytest.raises(UsageError, match="invalid bucket name"):
        change_dir(Location(), "Not_A_Bucket")
    assert change_dir(Location("b", "p/"), "") == Location()
    assert change_dir(Location(), "s3://bkt/x") == Location("bkt", "x/")


def test_positionals_skip_options_and_their_values() -> None:
    argv = ["cp", "-r", "--where", "s3_size > 1", "a", "--dry-run", "b", "--", "-c"]
    assert positionals(argv, start=1, valued={"--where"}) == [4, 6, 8]
    assert positionals(["ls", "--where=x", "d"], start=1, valued={"--where"}) == [2]


def test_rewrite_args() -> None:
    cwd = Location("b", "p/")
    valued = {"--where", "--acl"}
    assert rewrite_args(cwd, ["ls"], command="ls", start=1, valued=valued) == ["ls", "s3://b/p/"]
    assert rewrite_args(Location(), ["ls"], command="ls", start=1, valued=valued) == ["ls"]
    assert rewrite_args(cwd, ["ls", ".."], command="ls", start=1, valued=valued) == ["ls", "s3://b/"]
    assert rewrite_args(Location("b", ""), ["ls", ".."], command="ls", start=1, valued=valued) == ["ls"]  # the buckets
    assert rewrite_args(cwd, ["put", "f.txt"], command="put", start=1, valued=valued) == ["put", "f.txt", "s3://b/p/"]
    assert rewrite_args(cwd, ["put", "a", "b", "sub/"], command="put", start=1, valued=valued) == [
        "put",
        "a",
        "b",
        "s3://b/p/sub/",
    ]
    assert rewrite_args(cwd, ["get", "k.txt", "out/"], command="get", start=1, valued=valued) == ["get", "s3://b/p/k.txt", "out/"]
    assert rewrite_args(cwd, ["acl", "set", "private", "k"], command="acl set", start=2, valued=valued) == [
        "acl", "set", "private", "s3://b/p/k",
    ]  # fmt: skip
    assert rewrite_args(cwd, ["rm", "--where", "x", "k"], command="rm", start=1, valued=valued) == [
        "rm",
        "--where",
        "x",
        "s3://b/p/k",
    ]
    assert rewrite_args(cwd, ["sync", "d", "e"], command="sync", start=1, valued=valued) == ["sync", "d", "e"]
    assert rewrite_args(cwd, ["logging", "enable", ".", "--target", "/logs/b/"], command="logging enable", start=2, valued={"--target"}) == [
        "logging", "enable", "s3://b/p/", "--target", "s3://logs/b/",
    ]  # fmt: skip


def test_destructive_commands_never_default_to_the_current_location() -> None:
    assert rewrite_args(Location("b", "p/"), ["rm", "-r"], command="rm", start=1, valued=set()) == ["rm", "-r"]
    with pytest.raises(UsageError, match="top of S3"):
        rewrite_args(Location("b", ""), ["rm", "-r", ".."], command="rm", start=1, valued=set())


TREE = {
    None: ["alpha", "beta-1"],
    "alpha": ["docs/", "docs/a.txt", "docs/b.txt", "docs/sub/", "readme.md"],
}


def lister(bucket: str | None, prefix: str) -> list[str]:
    if bucket is None:
        return TREE[None]
    depth = prefix.count("/")
    return [k for k in TREE.get(bucket, []) if k.startswith(prefix) and k.rstrip("/").count("/") == depth]


@pytest.mark.parametrize(
    ("cwd", "text", "expected"),
    [
        (Location(), "", ["alpha/", "beta-1/"]),
        (Location(), "al", ["alpha/"]),
        (Location(), "alpha/d", ["alpha/docs/"]),
        (Location("alpha", ""), "", ["docs/", "readme.md"]),
        (Location("alpha", "docs/"), "", ["a.txt", "b.txt", "sub/"]),
        (Location("alpha", "docs/"), "../r", ["../readme.md"]),
        (Location("alpha", "docs/"), "/alpha/docs/s", ["/alpha/docs/sub/"]),
        (Location("alpha", "docs/"), "s3://al", ["s3://alpha/"]),
        (Location("alpha", "docs/"), "s3://alpha/docs/a", ["s3://alpha/docs/a.txt"]),
        (Location("alpha", "docs/"), "..", ["../"]),
        (Location("alpha", "docs/"), "zz", []),
    ],
)
def test_complete_path(cwd: Location, text: str, expected: list[str]) -> None:
    assert complete_path(cwd, text, lister=lister) == expected
