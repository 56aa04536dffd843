"""A server that answers every request with a redirect: one clear error per command, a handful of requests,
never botocore's redirect chase (hundreds of nested HEADs ending in a RecursionError)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request, Rewritten, build_response


def _always_redirect(proxy: FaultProxy) -> FaultPlan:
    def rewrite(request: Request, status: int, headers: dict[str, str], body: bytes) -> Rewritten:
        return Rewritten(build_response(307, {"Location": proxy.endpoint_url + request.target}, b""))

    return FaultPlan(rewrite_response=rewrite)


@pytest.mark.parametrize(
    "args",
    [("ls",), ("ls", "s3://redirected/"), ("info", "s3://redirected"), ("get", "s3://redirected/a.txt", "{tmp}/a.txt"),
     ("put", "{tmp}/src.txt", "s3://redirected/a.txt")],
)  # fmt: skip
def test_a_redirecting_server_gives_one_clear_error(proxy: FaultProxy, proxied: Target, tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "src.txt").write_text("x")
    proxy.set_plan(_always_redirect(proxy))
    result = proxied.run("--retries", "1", *(a.replace("{tmp}", str(tmp_path)) for a in args), timeout=120)
    assert result.returncode == 1, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "redirect" in errors[0] and "307" in errors[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    assert proxy.requests <= 12, f"{proxy.requests} requests: {proxy.log[:20]}"
    assert not (tmp_path / "a.txt").exists()
