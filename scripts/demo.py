"""`make demo`: a narrated end-to-end run of s3safe against a local S3 server on 127.0.0.1.

The server is moto behind a throwaway certificate authority, so the demo uses verified HTTPS
exactly as against a private S3 endpoint (--ca-bundle), with no real credentials and no traffic
beyond loopback.
"""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers.moto import start_moto  # noqa: E402

S3SAFE = str(Path(sys.executable).parent / "s3safe")


def say(text: str) -> None:
    print(f"\n== {text}", flush=True)


def run(env: dict[str, str], *args: str, expect: int = 0) -> str:
    print("$ s3safe " + " ".join(shlex.quote(a) for a in args), flush=True)
    result = subprocess.run([S3SAFE, *args], env=env, capture_output=True, text=True, timeout=300, check=False)
    sys.stdout.write(result.stdout)
    sys.stdout.write(result.stderr)
    if result.returncode != expect:
        raise SystemExit(f"demo failed: exit {result.returncode}, expected {expect}")
    return result.stdout


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="s3safe-demo-"))
    say("starting a local S3 server (moto) on 127.0.0.1 over HTTPS with a throwaway CA")
    server = start_moto(work / "server", tls=True)
    print(f"endpoint {server.endpoint_url}, CA bundle {server.ca_bundle}")
    home = work / "home"
    home.mkdir()
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(home),
        "NO_COLOR": "1",
        # demo-only credentials for the local server; the demo never reads your ~/.aws
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "S3SAFE_CONFIG_DIR": str(home / "s3safe"),
        "S3SAFE_ENDPOINT_URL": server.endpoint_url,
        "S3SAFE_CA_BUNDLE": str(server.ca_bundle),
    }
    bucket = f"demo-backups-{uuid.uuid4().hex[:8]}"
    try:
        say("1. plain HTTP is refused unless asked for (exit 2)")
        run(env, "--endpoint-url", server.endpoint_url.replace("https", "http"), "ls", expect=2)

        say("2. make a hardened bucket: Block Public Access, ACLs disabled, AES256 by default")
        run(env, "mb", f"s3://{bucket}")

        say("3. upload a folder: private and server-side encrypted without any option")
        folder = work / "reports"
        (folder / "2026").mkdir(parents=True)
        (folder / "summary.txt").write_text("quarterly summary\n" * 100)
        (folder / "2026" / "q3.csv").write_text("month,total\n" + "".join(f"{m},{m * 1000}\n" for m in range(1, 13)))
        (folder / "2026" / "photo.bin").write_bytes(os.urandom(3 * 1024 * 1024))
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        run(env, "put", "-r", str(folder), f"s3://{bucket}/reports/", "--meta", "source=demo")

        say("3b. run it again with --only-diff: nothing changed, nothing is sent")
        run(env, "sync", str(folder), f"s3://{bucket}/reports/", "-v")

        say("4. a public upload is refused without --allow-public (exit 2)")
        run(env, "put", str(files[0]), f"s3://{bucket}/public.txt", "--acl", "public-read", expect=2)

        say("5. list with --long: storage class, encryption and privacy of every object")
        run(env, "ls", "-r", "--long", "--summary", f"s3://{bucket}")

        say("6. the bucket's security settings")
        run(env, "info", f"s3://{bucket}")

        say("7. download everything again and verify it byte for byte")
        restore = work / "restore"
        run(env, "get", "-r", f"s3://{bucket}/reports/", str(restore))
        for path in files:
            key = path.relative_to(folder).as_posix()
            if sha256(restore / key) != sha256(path):
                raise SystemExit(f"demo failed: {key} differs after download")
        print(f"verified: {len(files)} file(s) identical after the round trip")

        say("8. clean up: a dry run first, then remove the bucket and its objects")
        run(env, "rb", "--force", "--dry-run", f"s3://{bucket}")
        run(env, "rb", "--force", f"s3://{bucket}")
        say("demo complete: every step succeeded")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
