"""A real browser (headless Chromium, Debian's `chromium`, installed by `make system-deps`) opens the HTML audit
report with networking disabled, driven over the DevTools protocol on a pipe (one browser start): the page loads
with no request leaving it and nothing blocked, its inline style applies (the page's own CSP allows it), a hostile
bucket name and key render as text (no element, no script run), and a screenshot is taken."""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time
from pathlib import Path
from typing import Any

from s3safe.audit.checks import ALL_CHECKS, BY_ID
from s3safe.audit.model import AuditReport, BucketResult, Severity
from s3safe.audit.report_html import html_report

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# an attribute-free payload would prove less: an <img> with a remote src is what a browser would fetch
HOSTILE_BUCKET = (
    "<img src=\"http://evil.example/x.png\" onerror=\"document.title='pwned'\"><script>document.title='pwned'</script>"
)
HOSTILE_KEY = '<iframe src="https://evil.example/"></iframe>&amp;.txt'
DEADLINE = 30.0


def _report() -> AuditReport:
    acl, bpa = BY_ID["object-acl-public"], BY_ID["bucket-public-access-block"]
    bucket = BucketResult(HOSTILE_BUCKET, "us-east-1", findings=[
        bpa.finding(HOSTILE_BUCKET, "Block Public Access is not configured", fix=f"s3safe harden s3://{HOSTILE_BUCKET}"),
        acl.finding(HOSTILE_BUCKET, "object ACL grants READ to AllUsers", fix="s3safe acl set private s3://b/k",
                    key=HOSTILE_KEY, severity=Severity.CRITICAL),
    ])  # fmt: skip
    return AuditReport([bucket], list(ALL_CHECKS))


class DevTools:
    """The DevTools protocol over --remote-debugging-pipe: JSON messages ended by NUL, commands on fd 3, replies
    and events on fd 4."""

    def __init__(self, profile: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        def wire() -> None:  # in the child: the pipe ends on the fds the protocol names
            os.dup2(to_browser_r, 3)
            os.dup2(from_browser_w, 4)

        self.proc = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--host-resolver-rules=MAP * ~NOTFOUND", "--no-first-run", "--no-default-browser-check",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={profile}", "--window-size=1200,1600", "about:blank"],
            preexec_fn=wire, pass_fds=(3, 4), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _read_message(self, until: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            left = until - time.monotonic()
            assert left > 0, f"no answer from chromium within {DEADLINE:.0f}s"
            ready, _, _ = select.select([self._from_browser], [], [], left)
            if ready:
                chunk = os.read(self._from_browser, 65536)
                assert chunk, f"chromium closed the DevTools pipe (exit {self.proc.poll()})"
                self._buffer += chunk
        message, _, self._buffer = self._buffer.partition(b"\0")
        return dict(json.loads(message))

    def call(self, method: str, params: dict[str, Any] | None = None, *, session: str | None = None) -> dict[str, Any]:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        until = time.monotonic() + DEADLINE
        while True:
            reply = self._read_message(until)
            if reply.get("id") == self._next_id:
                assert "error" not in reply, f"{method}: {reply['error']}"
                return dict(reply.get("result", {}))
            self.events.append(reply)

    def wait_for(self, method: str) -> dict[str, Any]:
        until = time.monotonic() + DEADLINE
        for event in self.events:
            if event.get("method") == method:
                return event
        while True:
            event = self._read_message(until)
            self.events.append(event)
            if event.get("method") == method:
                return event

    def close(self) -> None:
        try:
            os.write(self._to_browser, json.dumps({"id": 0, "method": "Browser.close"}).encode() + b"\0")
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait(timeout=10)
        finally:
            os.close(self._to_browser)
            os.close(self._from_browser)


def test_chromium_renders_the_report_offline_with_hostile_names_as_text(tmp_path: Path) -> None:
    assert Path(CHROMIUM).exists(), "chromium is installed by 'make system-deps' (Debian package chromium)"
    page = tmp_path / "report.html"
    page.write_text(html_report(_report(), statuses=None), encoding="utf-8")
    browser = DevTools(tmp_path / "profile")
    try:
        target = next(t for t in browser.call("Target.getTargets")["targetInfos"] if t["type"] == "page")
        session = browser.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})["sessionId"]
        for domain in ("Page", "Network", "Log", "Runtime"):
            browser.call(f"{domain}.enable", session=session)
        browser.events.clear()
        browser.call("Page.navigate", {"url": page.as_uri()}, session=session)
        browser.wait_for("Page.loadEventFired")

        def evaluate(expression: str) -> Any:
            return browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)["result"][
                "value"
            ]

        title = evaluate("document.title")
        injected = evaluate("document.querySelectorAll('script, img, iframe').length")
        text = evaluate("document.body.innerText")
        heading = evaluate("document.querySelector('h2').textContent")
        pill = evaluate("getComputedStyle(document.querySelector('.pill.critical')).backgroundColor")
        shot = base64.b64decode(browser.call("Page.captureScreenshot", {"format": "png"}, session=session)["data"])
    finally:
        browser.close()
    (tmp_path / "report.png").write_bytes(shot)

    requests = [e["params"]["request"]["url"] for e in browser.events if e.get("method") == "Network.requestWillBeSent"]
    failed = [e["params"] for e in browser.events if e.get("method") == "Network.loadingFailed"]
    complaints = [e["params"]["entry"]["text"] for e in browser.events
                  if e.get("method") == "Log.entryAdded" and e["params"]["entry"]["level"] in ("error", "warning")]  # fmt: skip
    assert requests == [page.as_uri()], f"the report asked for more than itself: {requests}"
    assert not failed, f"blocked or failed loads: {failed}"
    assert not complaints, f"the browser complained (a CSP violation, a blocked load): {complaints}"
    assert title == "s3safe audit report", "a script in a store name ran"
    assert injected == 0, "a store name became an element"
    assert heading == f"s3://{HOSTILE_BUCKET}"
    assert HOSTILE_KEY in text
    assert pill == "rgb(139, 0, 0)", "the report's inline style did not apply (blocked by its CSP?)"
    assert shot.startswith(b"\x89PNG\r\n\x1a\n") and len(shot) > 10_000
