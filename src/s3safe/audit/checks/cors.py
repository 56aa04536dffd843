"""CORS rules that let any web site call the bucket from a visitor's browser with credentials.

S3 answers a CORS request from an origin that matches a rule's AllowedOrigin with that origin and
``Access-Control-Allow-Credentials: true`` (for an exact ``*`` it answers ``*``, which browsers refuse for
credentialed requests, but pre-signed URLs carry their credentials in the URL). A rule fires this check
when it matches every origin (``*``, ``http://*``, ``https://*``) and also lets a page send credentials or
change data: AllowedHeaders ``*`` or ``Authorization``, or the methods PUT, POST or DELETE.
"""

from __future__ import annotations

from typing import Any

from s3safe.audit.checks._base import bucket_check
from s3safe.audit.facts import CORS, AuditContext, BucketFacts
from s3safe.audit.model import Check, Finding, Severity

ANY_ORIGIN = frozenset({"*", "http://*", "https://*", "*://*"})
CREDENTIAL_HEADERS = frozenset({"*", "authorization"})
WRITE_METHODS = frozenset({"PUT", "POST", "DELETE"})


def risky_rule(rule: dict[str, Any]) -> str | None:
    origins = {str(o).strip() for o in rule.get("AllowedOrigins", [])}
    if not origins & ANY_ORIGIN:
        return None
    headers = {str(h).strip().lower() for h in rule.get("AllowedHeaders", [])} & CREDENTIAL_HEADERS
    methods = {str(m).strip().upper() for m in rule.get("AllowedMethods", [])} & WRITE_METHODS
    if not headers and not methods:
        return None
    what = []
    if headers:
        what.append("headers " + ", ".join(sorted(headers)))
    if methods:
        what.append("methods " + ", ".join(sorted(methods)))
    return f"rule {rule.get('ID') or '(no ID)'} allows origin {', '.join(sorted(origins & ANY_ORIGIN))} with {' and '.join(what)}"


@bucket_check(
    "bucket-cors-wildcard", "CORS allows any web site with credentials", severity=Severity.MEDIUM,
    why="A CORS rule for every origin that also allows credential headers or writes lets any page a signed-in user or a "
    "pre-signed URL holder visits act on the bucket from their browser.",
    fixable=False,
)  # fmt: skip
def cors_wildcard(check: Check, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
    rules = [r for r in facts.value(CORS).get("CORSRules", []) if isinstance(r, dict)]
    risky = [text for r in rules if (text := risky_rule(r))]
    if not risky:
        return []
    fix = (f"list your sites in AllowedOrigins instead of '*' (aws s3api put-bucket-cors --bucket {facts.name} ...), "
           f"or remove the rules (aws s3api delete-bucket-cors --bucket {facts.name})")  # fmt: skip
    return [check.finding(facts.name, "; ".join(risky), fix=fix)]


CHECKS = [cors_wildcard]
