"""The real command line of each tool for upload, download and no-change sync, and its environment."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

REGION = "us-east-1"


@dataclass(frozen=True)
class Endpoint:
    url: str  # http://127.0.0.1:PORT
    bucket: str
    access_key: str
    secret_key: str

    @property
    def hostport(self) -> str:
        return self.url.split("://", 1)[1]


def base_env(home: Path, endpoint: Endpoint) -> dict[str, str]:
    """A clean environment: nothing from the caller's (no real AWS settings, no proxies, no real ~/.aws)."""
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TMPDIR": str(home / "tmp"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "AWS_ACCESS_KEY_ID": endpoint.access_key,
        "AWS_SECRET_ACCESS_KEY": endpoint.secret_key,
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
        "NO_COLOR": "1",
    }


def prepare_home(home: Path, endpoint: Endpoint) -> None:
    """Config files the tools read: path-style addressing for the AWS CLI, an s3cmd config, an empty rclone one."""
    (home / "tmp").mkdir(parents=True, exist_ok=True)
    aws = home / ".aws"
    aws.mkdir(parents=True, exist_ok=True)
    (aws / "config").write_text(f"[default]\nregion = {REGION}\ns3 =\n    addressing_style = path\n")
    (aws / "credentials").write_text("")
    (home / ".config" / "rclone").mkdir(parents=True, exist_ok=True)
    (home / ".config" / "rclone" / "rclone.conf").write_text("")
    (home / "s3cmd.cfg").write_text(
        "[default]\n"
        f"access_key = {endpoint.access_key}\n"
        f"secret_key = {endpoint.secret_key}\n"
        f"host_base = {endpoint.hostport}\n"
        f"host_bucket = {endpoint.hostport}\n"  # no %(bucket)s: path-style requests
        "use_https = False\n"
        "signature_v2 = False\n"
        f"bucket_location = {REGION}\n"
        "check_ssl_certificate = True\n"
    )
    (home / "s3cmd.cfg").chmod(0o600)


@dataclass
class Tool:
    """One tool's command lines; `prefix` always ends with '/'."""

    name: str
    exe: Path
    endpoint: Endpoint
    home: Path
    extra_env: dict[str, str] = field(default_factory=dict)
    setting: str = ""  # concurrency / notable options, reported in the results

    def s3(self, prefix: str) -> str:
        return f"s3://{self.endpoint.bucket}/{prefix}"

    def upload(self, src: Path, prefix: str) -> list[str]:
        raise NotImplementedError

    def download(self, prefix: str, dest: Path) -> list[str]:
        raise NotImplementedError

    def sync(self, src: Path, prefix: str) -> list[str]:
        raise NotImplementedError


@dataclass
class S3safe(Tool):
    threads: int | None = None
    upload_args: list[str] = field(default_factory=list)  # e.g. ["--recipient", "age1…"] for the encrypted run

    def _base(self) -> list[str]:
        threads = ["-t", str(self.threads)] if self.threads else []
        return [str(self.exe), "--endpoint-url", self.endpoint.url, "--allow-http", *threads]

    def upload(self, src: Path, prefix: str) -> list[str]:
        return [*self._base(), "put", "-r", *self.upload_args, str(src), self.s3(prefix)]

    def download(self, prefix: str, dest: Path) -> list[str]:
        return [*self._base(), "get", "-r", self.s3(prefix), str(dest)]

    def sync(self, src: Path, prefix: str) -> list[str]:
        return [*self._base(), "sync", str(src), self.s3(prefix)]


@dataclass
class S5cmd(Tool):
    def upload(self, src: Path, prefix: str) -> list[str]:
        return [str(self.exe), "--endpoint-url", self.endpoint.url, "cp", f"{src}/*", self.s3(prefix)]

    def download(self, prefix: str, dest: Path) -> list[str]:
        return [str(self.exe), "--endpoint-url", self.endpoint.url, "cp", f"{self.s3(prefix)}*", f"{dest}/"]

    def sync(self, src: Path, prefix: str) -> list[str]:
        return [str(self.exe), "--endpoint-url", self.endpoint.url, "sync", f"{src}/", self.s3(prefix)]


@dataclass
class Rclone(Tool):
    def remote(self, prefix: str) -> str:
        return f"bench:{self.endpoint.bucket}/{prefix.rstrip('/')}"

    def upload(self, src: Path, prefix: str) -> list[str]:
        return [str(self.exe), "copy", str(src), self.remote(prefix)]

    def download(self, prefix: str, dest: Path) -> list[str]:
        return [str(self.exe), "copy", self.remote(prefix), str(dest)]

    def sync(self, src: Path, prefix: str) -> list[str]:
        return [str(self.exe), "sync", str(src), self.remote(prefix)]


@dataclass
class AwsCli(Tool):
    def upload(self, src: Path, prefix: str) -> list[str]:
        return [str(self.exe), "--endpoint-url", self.endpoint.url, "s3", "cp", "--recursive", str(src), self.s3(prefix)]

    def download(self, prefix: str, dest: Path) -> list[str]:
        return [str(self.exe), "--endpoint-url", self.endpoint.url, "s3", "cp", "--recursive", self.s3(prefix), str(dest)]

    def sync(self, src: Path, prefix: str) -> list[str]:
        return [str(self.exe), "--endpoint-url", self.endpoint.url, "s3", "sync", str(src), self.s3(prefix)]


@dataclass
class S3cmd(Tool):
    def _base(self) -> list[str]:
        return [str(self.exe), "-c", str(self.home / "s3cmd.cfg")]

    def upload(self, src: Path, prefix: str) -> list[str]:
        return [*self._base(), "put", "-r", f"{src}/", self.s3(prefix)]

    def download(self, prefix: str, dest: Path) -> list[str]:
        return [*self._base(), "get", "-r", self.s3(prefix), f"{dest}/"]

    def sync(self, src: Path, prefix: str) -> list[str]:
        return [*self._base(), "sync", f"{src}/", self.s3(prefix)]


def make_tool(name: str, exe: Path, endpoint: Endpoint, home: Path, *, threads: int | None = None) -> Tool:
    if name.startswith("s3safe"):
        setting = f"-t {threads}" if threads else "default -t (10)"
        return S3safe(name, exe, endpoint, home, setting=setting, threads=threads)
    if name == "s5cmd":
        return S5cmd(name, exe, endpoint, home, setting="defaults (--numworkers 256, multipart 50 MB x5)")
    if name == "rclone":
        remote = "RCLONE_CONFIG_BENCH_"
        env = {
            "RCLONE_CONFIG": str(home / ".config" / "rclone" / "rclone.conf"),
            f"{remote}TYPE": "s3",
            f"{remote}PROVIDER": "Other",
            f"{remote}ENDPOINT": endpoint.url,
            f"{remote}ACCESS_KEY_ID": endpoint.access_key,
            f"{remote}SECRET_ACCESS_KEY": endpoint.secret_key,
            f"{remote}REGION": REGION,
            f"{remote}FORCE_PATH_STYLE": "true",
        }
        return Rclone(name, exe, endpoint, home, extra_env=env, setting="defaults (--transfers 4 --checkers 8)")
    if name == "aws":
        return AwsCli(name, exe, endpoint, home, setting="defaults (max_concurrent_requests 10, 8 MiB parts), path style")
    if name == "s3cmd":
        return S3cmd(name, exe, endpoint, home, setting="defaults (serial, 15 MiB parts)")
    raise ValueError(f"unknown tool {name}")
