"""Connection settings (precedence, HTTPS-only, bounds), rates, and the config file."""

from __future__ import annotations

import math
import os
import stat
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3safe.core.errors import EXIT_USAGE, UsageError
from s3safe.core.settings import (
    DEFAULT_RETRIES,
    DEFAULT_THREADS,
    DEFAULT_TIMEOUT,
    MAX_THREADS,
    ConnectionSettings,
    check_endpoint,
    config_path,
    load_config,
    parse_rate,
    resolve_settings,
    set_config_value,
    unset_config_value,
)

# --- endpoint precedence ----------------------------------------------------------------------------

LAYERS = [
    ("cli", "https://cli.example"),
    ("S3SAFE_ENDPOINT_URL", "https://s3safe-env.example"),
    ("AWS_ENDPOINT_URL_S3", "https://aws-s3-env.example"),
    ("AWS_ENDPOINT_URL", "https://aws-env.example"),
    ("config", "https://config.example"),
]


@pytest.mark.parametrize("top", range(len(LAYERS)))
def test_endpoint_precedence(top: int) -> None:
    """With every layer from `top` down set, the value of layer `top` wins."""
    cli: dict[str, object] = {}
    env: dict[str, str] = {}
    config: dict[str, object] = {}
    for name, value in LAYERS[top:]:
        if name == "cli":
            cli["endpoint_url"] = value
        elif name == "config":
            config["endpoint_url"] = value
        else:
            env[name] = value
    assert resolve_settings(cli, env=env, config=config).endpoint_url == LAYERS[top][1]


def test_no_endpoint_anywhere_means_aws() -> None:
    s = resolve_settings({}, env={}, config={})
    assert s.endpoint_url is None
    assert not s.is_custom_endpoint
    assert not s.uses_http


def test_empty_values_fall_through_to_the_next_layer() -> None:
    s = resolve_settings({"endpoint_url": ""}, env={"S3SAFE_ENDPOINT_URL": "", "AWS_ENDPOINT_URL": "https://aws-env.example"})
    assert s.endpoint_url == "https://aws-env.example"


def test_environment_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3SAFE_ENDPOINT_URL", "https://from-environ.example/")
    assert resolve_settings({}).endpoint_url == "https://from-environ.example"


@pytest.mark.parametrize(
    "where",
    [
        {"cli": {"endpoint_url": "http://127.0.0.1:9000"}},
        {"env": {"S3SAFE_ENDPOINT_URL": "http://127.0.0.1:9000"}},
        {"env": {"AWS_ENDPOINT_URL": "HTTP://127.0.0.1:9000"}},
        {"config": {"endpoint_url": "http://127.0.0.1:9000"}},
    ],
)
def test_plain_http_is_refused_without_allow_http(where: dict[str, dict[str, str]]) -> None:
    with pytest.raises(UsageError) as info:
        resolve_settings(where.get("cli", {}), env=where.get("env", {}), config=where.get("config", {}))
    assert info.value.exit_code == EXIT_USAGE
    assert "--allow-http" in str(info.value)


def test_plain_http_is_accepted_with_allow_http() -> None:
    s = resolve_settings({"endpoint_url": "http://127.0.0.1:9000/", "allow_http": True}, env={})
    assert s.endpoint_url == "http://127.0.0.1:9000"
    assert s.allow_http
    assert s.uses_http
    assert s.is_custom_endpoint


@pytest.mark.parametrize(
    "url", ["ftp://host", "https://", "https:///path", "host:9000", "127.0.0.1:9000", "not a url", "file:///etc/passwd", "//host"]
)
def test_invalid_endpoints_are_refused(url: str) -> None:
    with pytest.raises(UsageError) as info:
        resolve_settings({"endpoint_url": url, "allow_http": True}, env={})
    assert info.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(
    ("url", "custom"),
    [
        ("https://s3.eu-west-1.amazonaws.com", False),
        ("https://s3.amazonaws.com", False),
        ("https://minio.internal:9000", True),
        ("https://notamazonaws.com", True),  # a look-alike is not AWS
        ("https://s3.amazonaws.com.evil.example", True),
    ],
)
def test_custom_endpoint_detection(url: str, custom: bool) -> None:
    assert ConnectionSettings(endpoint_url=url).is_custom_endpoint is custom


# --- other settings ---------------------------------------------------------------------------------


def test_defaults() -> None:
    s = resolve_settings({}, env={})
    assert (s.threads, s.retries, s.timeout) == (DEFAULT_THREADS, DEFAULT_RETRIES, DEFAULT_TIMEOUT)
    assert s.max_bandwidth is None and s.ca_bundle is None and s.region is None and s.profile is None


def test_cli_beats_config_for_every_plain_setting() -> None:
    config = {"region": "eu-west-1", "profile": "cfg", "threads": 3, "retries": 2, "timeout": 10, "max_bandwidth": "1MB"}
    cli = {"region": "us-east-2", "profile": "cli", "threads": 7, "retries": 4, "timeout": 20, "max_bandwidth": "2MB"}
    s = resolve_settings(cli, env={}, config=config)
    assert (s.region, s.profile, s.threads, s.retries, s.timeout, s.max_bandwidth) == ("us-east-2", "cli", 7, 4, 20.0, 2_000_000)
    s = resolve_settings({}, env={}, config=config)
    assert (s.region, s.profile, s.threads, s.retries, s.timeout, s.max_bandwidth) == ("eu-west-1", "cfg", 3, 2, 10.0, 1_000_000)


def test_region_environment_sits_between_cli_and_config() -> None:
    assert resolve_settings({}, env={"S3SAFE_REGION": "eu-north-1"}, config={"region": "eu-west-1"}).region == "eu-north-1"
    assert resolve_settings({"region": "ap-south-1"}, env={"S3SAFE_REGION": "eu-north-1"}).region == "ap-south-1"


@pytest.mark.parametrize(
    "region", ["us-east-1", "eu-central-1", "ap-southeast-2", "us-gov-west-1", "cn-north-1", "auto", "garage"]
)
def test_valid_regions(region: str) -> None:
    assert resolve_settings({"region": region}, env={}).region == region


@pytest.mark.parametrize(
    "region", ["US-EAST-1", "us_east_1", "us-east-1/../x", " us-east-1", "us east 1", "-us", "us-east-1\n", "a" * 80]
)
def test_invalid_regions(region: str) -> None:
    with pytest.raises(UsageError) as info:
        resolve_settings({"region": region}, env={})
    assert info.value.exit_code == EXIT_USAGE


def test_ca_bundle_must_exist_and_be_a_file(tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        resolve_settings({"ca_bundle": str(tmp_path / "missing.pem")}, env={})
    with pytest.raises(UsageError):
        resolve_settings({"ca_bundle": str(tmp_path)}, env={})


def test_ca_bundle_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    monkeypatch.chdir(tmp_path)
    s = resolve_settings({"ca_bundle": "ca.pem"}, env={})
    assert s.ca_bundle == str((tmp_path / "ca.pem").resolve())
    assert Path(s.ca_bundle).is_absolute()


@pytest.mark.parametrize(
    ("name", "value", "ok"),
    [
        ("threads", 0, False),
        ("threads", 1, True),
        ("threads", MAX_THREADS, True),
        ("threads", MAX_THREADS + 1, False),
        ("threads", -1, False),
        ("threads", "8", True),
        ("threads", "eight", False),
        ("retries", -1, False),
        ("retries", 0, True),
        ("retries", 20, True),
        ("retries", 21, False),
        ("retries", "x", False),
        ("timeout", 0, False),
        ("timeout", -1, False),
        ("timeout", 0.5, False),
        ("timeout", 1, True),
        ("timeout", 3600, True),
        ("timeout", 3601, False),
        ("timeout", "soon", False),
        ("timeout", float("nan"), False),
    ],
)
def test_numeric_bounds(name: str, value: object, ok: bool) -> None:
    if ok:
        s = resolve_settings({name: value}, env={})
        assert isinstance(value, int | float | str)
        assert getattr(s, name) == (float(value) if name == "timeout" else int(value))
    else:
        with pytest.raises(UsageError) as info:
            resolve_settings({name: value}, env={})
        assert info.value.exit_code == EXIT_USAGE
        assert name in str(info.value)


# --- rates ------------------------------------------------------------------------------------------

UNIT_FACTORS = {
    "": 1, "b": 1, "B": 1,
    "k": 10**3, "KB": 10**3, "kb": 10**3, "Ki": 2**10, "KiB": 2**10, "kib": 2**10,
    "M": 10**6, "MB": 10**6, "Mi": 2**20, "MiB": 2**20,
    "G": 10**9, "GB": 10**9, "Gi": 2**30, "GiB": 2**30,
}  # fmt: skip


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("10MB", 10_000_000),
        ("512KiB/s", 524_288),
        ("1.5g", 1_500_000_000),
        ("1", 1),
        ("  20 MB/s ", 20_000_000),
        ("0.5KiB", 512),
    ],
)
def test_parse_rate_examples(text: str, expected: int) -> None:
    assert parse_rate(text) == expected


@settings(max_examples=300, deadline=None)
@given(
    n=st.integers(1, 1_000_000),
    unit=st.sampled_from(sorted(UNIT_FACTORS)),
    per_second=st.booleans(),
    space=st.sampled_from(["", " "]),
)
def test_parse_rate_round_trip(n: int, unit: str, per_second: bool, space: str) -> None:
    text = f"{n}{space}{unit}{'/s' if per_second and unit else ''}"
    assert parse_rate(text) == n * UNIT_FACTORS[unit]


@pytest.mark.parametrize(("text", "expected"), [("1T", 10**12), ("2TB", 2 * 10**12), ("1Ti", 2**40), ("2TiB", 2 * 2**40)])
def test_parse_rate_terabytes(text: str, expected: int) -> None:
    """The rate grammar accepts a 't' unit, so it must mean something (and never crash)."""
    assert parse_rate(text) == expected


@pytest.mark.parametrize(
    "text", ["", "fast", "-1MB", "0", "0MB", "0.0000001KB", "10 XB", "1e6", "MB", "10MB/h", "5ib", "5i", "1,000"]
)
def test_parse_rate_refuses_nonsense_with_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_rate(text)
    assert info.value.exit_code == EXIT_USAGE


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789.kKmMgGtTiIbB/s -", max_size=10))
def test_parse_rate_returns_a_positive_int_or_a_usage_error(text: str) -> None:
    try:
        value = parse_rate(text)
    except UsageError:
        return
    assert isinstance(value, int) and value > 0


# --- the config file --------------------------------------------------------------------------------


def test_config_path_honours_s3safe_config_dir() -> None:
    assert config_path() == Path(os.environ["S3SAFE_CONFIG_DIR"]) / "config.toml"


def test_set_config_value_writes_an_owner_only_file(tmp_path: Path) -> None:
    path = tmp_path / "new-dir" / "config.toml"
    data = set_config_value("region", "eu-west-1", path=path)
    assert data == {"region": "eu-west-1"}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) & 0o077 == 0
    assert load_config(path) == {"region": "eu-west-1"}
    assert not path.with_name("config.toml.tmp").exists()


def test_set_config_value_defaults_to_the_config_dir() -> None:
    set_config_value("threads", "4")
    assert config_path().is_file()
    assert load_config() == {"threads": 4}


def test_rewriting_keeps_other_keys_and_mode(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    set_config_value("region", "eu-west-1", path=path)
    os.chmod(path, 0o644)
    set_config_value("threads", "8", path=path)
    set_config_value("region", "us-east-2", path=path)
    assert load_config(path) == {"region": "us-east-2", "threads": 8}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_unset_config_value(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    set_config_value("region", "eu-west-1", path=path)
    set_config_value("profile", "work", path=path)
    assert unset_config_value("region", path=path) == {"profile": "work"}
    assert load_config(path) == {"profile": "work"}
    with pytest.raises(UsageError):
        unset_config_value("region", path=path)


def test_missing_config_file_is_empty(tmp_path: Path) -> None:
    assert load_config(tmp_path / "nope.toml") == {}


def test_load_config_rejects_unknown_keys(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text('region = "eu-west-1"\nbogus = 1\n')
    with pytest.raises(UsageError) as info:
        load_config(path)
    assert info.value.exit_code == EXIT_USAGE
    assert "bogus" in str(info.value)


@pytest.mark.parametrize("text", ['region = "eu-west-1', "region eu-west-1\n", "[[[", b"\xff\xfe".decode("latin-1")])
def test_load_config_rejects_invalid_toml(tmp_path: Path, text: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="latin-1" if "\xff" in text else "utf-8")
    with pytest.raises(UsageError) as info:
        load_config(path)
    assert info.value.exit_code == EXIT_USAGE
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "key", ["aws_secret_access_key", "secret_key", "password", "passphrase", "session_token", "TOKEN", "private_key"]
)
def test_secret_looking_keys_are_refused_and_never_written(tmp_path: Path, key: str) -> None:
    path = tmp_path / "config.toml"
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    with pytest.raises(UsageError) as info:
        set_config_value(key, secret, path=path)
    assert "secret" in str(info.value)
    assert secret not in str(info.value)
    assert not path.exists()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("endpoint_url", "http://127.0.0.1:9000"),  # plain HTTP is never a stored default
        ("endpoint_url", "not-a-url"),
        ("sse", "aes256"),
        ("sse", "none"),
        ("region", "Not A Region"),
        ("threads", "0"),
        ("threads", "many"),
        ("timeout", "soon"),
        ("max_bandwidth", "fast"),
        ("no_such_key", "x"),
    ],
)
def test_set_config_value_validates(tmp_path: Path, key: str, value: str) -> None:
    path = tmp_path / "config.toml"
    with pytest.raises(UsageError):
        set_config_value(key, value, path=path)
    assert not path.exists()


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("threads", "256"),
        ("retries", "0"),
        ("retries", "20"),
        ("retries", "21"),
        ("retries", "100"),
        ("timeout", "30"),
        ("timeout", "0"),
        ("timeout", "-5"),
        ("timeout", "nan"),
        ("timeout", "inf"),
        ("timeout", "86400"),
    ],
)
def test_a_value_config_set_accepts_never_breaks_later_commands(tmp_path: Path, key: str, value: str) -> None:
    """`config set` must refuse what `resolve_settings` would refuse, or every later command fails."""
    path = tmp_path / "config.toml"
    try:
        set_config_value(key, value, path=path)
    except UsageError:
        return
    resolve_settings({}, env={}, config=load_config(path))


# printable text, plus what TOML needs escaped (quote, backslash) and escape look-alikes
profile_values = st.lists(
    st.characters(exclude_categories=["Cs", "Cc"]) | st.sampled_from(['"', "\\", "'", "\\n", '\\"', "\t", "#", "=", '"""']),
    max_size=20,
).map("".join)


@settings(max_examples=150, deadline=None)
@given(value=profile_values)
def test_printable_values_round_trip_through_the_file(value: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "config.toml"
        set_config_value("profile", value, path=path)
        set_config_value("sse_kms_key_id", value + "x", path=path)
        assert load_config(path) == {"profile": value, "sse_kms_key_id": value + "x"}


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\x00b", "a\x1b[0mb", "a\x7fb", "a\x08b", "a\tb"])
def test_values_with_control_characters_are_refused_or_round_trip(tmp_path: Path, value: str) -> None:
    """Either `config set` refuses the value, or the file it writes still loads and gives it back."""
    path = tmp_path / "config.toml"
    try:
        set_config_value("profile", value, path=path)
    except UsageError:
        assert not path.exists() or load_config(path) == {}
        return
    assert load_config(path) == {"profile": value}


def test_numbers_are_stored_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    set_config_value("threads", "12", path=path)
    set_config_value("timeout", "2.5", path=path)
    data = load_config(path)
    assert data == {"threads": 12, "timeout": 2.5}
    assert isinstance(data["threads"], int) and not math.isnan(data["timeout"])
    s = resolve_settings({}, env={}, config=data)
    assert (s.threads, s.timeout) == (12, 2.5)


@pytest.mark.parametrize("url", ["http://127.0.0.1:9000/s3", "https://gw.example/minio/", "https://gw.example:8443/a/b"])
def test_an_endpoint_under_a_path_is_refused_with_the_reason_and_what_to_do(url: str) -> None:
    """S3 behind a reverse proxy at a path prefix (issue #19): botocore and obstore keep the path and sign it,
    so a proxy that strips it makes the server check another path's signature; refused, saying so, with the
    host-root form of the same endpoint to use instead (before: a generic 'no path, query or fragment')."""
    with pytest.raises(UsageError) as caught:
        check_endpoint(url, allow_http=True)
    text = str(caught.value)
    root = url.split("/", 3)[0] + "//" + url.split("/", 3)[2]
    assert "has a path" in text and "signed over their full path" in text and "reverse proxy" in text, text
    assert f"{root} if the server itself answers there" in text and "\n" not in text, text
    assert check_endpoint(root + "/", allow_http=True) == root
