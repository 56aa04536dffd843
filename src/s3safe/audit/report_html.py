"""A self-contained HTML report: one file, inline CSS, no scripts, no links to anything outside it.

Every text that comes from the store (bucket names, keys, policy Sids, notes) is escaped, so a key named
`<script>…` shows as text. A Content-Security-Policy meta tag forbids scripts and remote loads as a second
line of defence.
"""

from __future__ import annotations

from datetime import UTC, datetime
from html import escape

from s3safe import __version__
from s3safe.audit.model import AuditReport, BucketResult, Finding, Severity

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
STYLE = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:1200px;color:#1d2330;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #d8dce4;padding-bottom:.2em}
.meta{color:#5b6475}.pill{display:inline-block;padding:.15em .6em;border-radius:1em;font-weight:600;color:#fff;margin-right:.4em}
.critical{background:#8b0000}.high{background:#c0392b}.medium{background:#d68910}.low{background:#2e86c1}.ok{background:#1e8449}
table{border-collapse:collapse;width:100%;margin:.6em 0}th,td{border:1px solid #d8dce4;padding:.35em .5em;text-align:left;vertical-align:top}
th{background:#f2f4f8}code{font:12px/1.4 ui-monospace,Menlo,Consolas,monospace;word-break:break-all;background:#f5f6f8;padding:0 .2em}
.why{color:#4a5263;font-size:.92em}.notes li{color:#5b6475}.status td:first-child{width:14em;color:#5b6475}
"""


# control characters (ESC, BEL, newline … and C1) in a key are shown as \xNN: raw, a browser hides them
# and a terminal that `cat`s the file would obey them
_CONTROLS = {i: f"\\x{i:02x}" for i in [*range(0, 32), *range(127, 160)]}


def _e(text: object) -> str:
    return escape(str(text).translate(_CONTROLS), quote=True)


def _pills(counts: dict[str, int]) -> str:
    shown = [f'<span class="pill {_e(label)}">{n} {_e(label)}</span>' for label, n in counts.items() if n]
    return "".join(shown) or '<span class="pill ok">no findings</span>'


def _finding_row(finding: Finding, status: str | None) -> str:
    label = finding.severity.label
    resource = f"<code>{_e(finding.url)}</code><br>" if finding.key is not None else ""
    state = f"<td>{_e(status)}</td>" if status is not None else ""
    return (
        f'<tr><td><span class="pill {label}">{label}</span></td><td><code>{_e(finding.check_id)}</code><br>{_e(finding.title)}</td>'
        f'<td>{resource}{_e(finding.found)}<div class="why">{_e(finding.why)}</div></td>'
        f"<td><code>{_e(finding.fix)}</code></td>{state}</tr>"
    )


def _bucket_section(index: int, bucket: BucketResult, *, report: AuditReport, statuses: dict[str, str] | None) -> str:
    parts = [f'<h2 id="b{index}">s3://{_e(bucket.bucket)}</h2>']
    meta = f"region {_e(bucket.region)} · " if bucket.region else ""
    parts.append(f'<p class="meta">{meta}{_pills(report.counts(bucket.findings))}</p>')
    if bucket.error:
        parts.append(f"<p><strong>Not audited:</strong> {_e(bucket.error)}</p>")
    if bucket.status:
        rows = "".join(f"<tr><td>{_e(k)}</td><td>{_e(v)}</td></tr>" for k, v in bucket.status.items())
        parts.append(f'<table class="status"><tbody>{rows}</tbody></table>')
    if bucket.objects is not None:
        o = bucket.objects
        scope = "sample of " if o.sampled else ""
        source = " (from the inventory report)" if o.inventory else ""
        client = "" if o.inventory else f"client-side encrypted: {o.client_encrypted} · "
        parts.append(f"<p>Objects checked{source}: {scope}{o.scanned} · public: {o.public} · unencrypted: {o.unencrypted} · "
                     f"{client}errors: {o.errors}</p>")  # fmt: skip
    if bucket.findings:
        extra = "<th>status</th>" if statuses is not None else ""
        rows = "".join(_finding_row(f, statuses.get(f.uid) if statuses is not None else None) for f in bucket.findings)
        parts.append(
            f"<table><thead><tr><th>severity</th><th>check</th><th>found / why it matters</th><th>fix</th>{extra}</tr></thead><tbody>{rows}</tbody></table>"
        )
    if bucket.notes:
        parts.append('<ul class="notes">' + "".join(f"<li>{_e(n)}</li>" for n in bucket.notes) + "</ul>")
    return "\n".join(parts)


def html_report(report: AuditReport, *, statuses: dict[str, str] | None = None, generated: datetime | None = None) -> str:
    when = (generated or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S UTC")
    counts = report.counts()
    toc_rows = "".join(
        f'<tr><td><a href="#b{i}">s3://{_e(b.bucket)}</a></td><td>{_pills(report.counts(b.findings)) if not b.error else "not audited"}</td></tr>'
        for i, b in enumerate(report.buckets)
    )
    sections = "\n".join(_bucket_section(i, b, report=report, statuses=statuses) for i, b in enumerate(report.buckets))
    checks = "".join(
        f'<tr><td><code>{_e(c.id)}</code></td><td><span class="pill {c.severity.label}">{c.severity.label}</span></td><td>{_e(c.title)}</td></tr>'
        for c in sorted(report.checks, key=lambda c: (-c.severity, c.id))
    )
    total = sum(counts.values())
    worst = next((s.label for s in sorted(Severity, reverse=True) if counts[s.label]), None)
    headline = f"{total} finding(s) in {len(report.buckets)} bucket(s)" + (f"; the worst is {worst}" if worst else "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>s3safe audit report</title><style>{STYLE}</style></head>
<body>
<h1>s3safe audit report</h1>
<p class="meta">generated {_e(when)} by s3safe {_e(__version__)}</p>
<p><strong>{_e(headline)}</strong></p><p>{_pills(counts)}</p>
<table><thead><tr><th>bucket</th><th>findings</th></tr></thead><tbody>{toc_rows}</tbody></table>
{sections}
<h2>Checks run</h2>
<table><thead><tr><th>id</th><th>severity</th><th>what it looks for</th></tr></thead><tbody>{checks}</tbody></table>
</body></html>
"""
