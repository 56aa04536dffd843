"""The bucket-policy evaluator against cases taken from the AWS documentation.

Every case id starts with a source tag from SOURCES (checked by test_every_case_cites_a_known_source).
Where a case reproduces a documented example, its values (bucket, addresses, keys) are the documented ones.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from s3safe.core.errors import UsageError
from s3safe.security.policy_eval import (
    EvaluationResult,
    PolicyError,
    RequestContext,
    evaluate,
    parse_policy,
    s3_request,
)
from s3safe.security.policy_templates import TemplateOptions, build_statements, merge

SOURCES = {
    "EVAL": 'AWS IAM User Guide, "Policy evaluation logic"',
    "XACCT": 'AWS IAM User Guide, "Cross-account policy evaluation logic"',
    "PRINCIPAL": 'AWS IAM User Guide, "AWS JSON policy elements: Principal"',
    "NOTPRINCIPAL": 'AWS IAM User Guide, "AWS JSON policy elements: NotPrincipal"',
    "ACTION": 'AWS IAM User Guide, "IAM JSON policy elements: Action" / "NotAction"',
    "RESOURCE": 'AWS IAM User Guide, "IAM JSON policy elements: Resource" / "NotResource"',
    "OPS": 'AWS IAM User Guide, "IAM JSON policy elements: Condition operators"',
    "MULTI": 'AWS IAM User Guide, "Conditions with multiple context keys or values"',
    "MVK": 'AWS IAM User Guide, "Multivalued context key examples" / "Single-valued vs. multivalued context keys"',
    "VARS": 'AWS IAM User Guide, "IAM policy elements: Variables and tags"',
    "S3EX": 'Amazon S3 User Guide, "Examples of Amazon S3 bucket policies"',
    "S3COND": 'Amazon S3 User Guide, "Bucket policy examples using condition keys"',
    "S3LOG": 'Amazon S3 User Guide, "Enabling Amazon S3 server access logging" (bucket policy for logging.s3.amazonaws.com)',
    "S3API": 'Amazon S3 API Reference, "PutBucketPolicy" (root user can always manage the bucket policy)',
    "COPILOT": "Cloud Copilot IAM simulator operator pages (iam.cloudcopilot.io), for set operators on missing keys",
    "FAQ": "S3Express FAQ policies, as produced by s3safe's templates (issue 6)",
}

B = "amzn-s3-demo-bucket"
ACCT = "111122223333"
OTHER_ACCT = "444455556666"
ALICE = f"arn:aws:iam::{ACCT}:user/alice"
BOB = f"arn:aws:iam::{ACCT}:user/bob"
ROLE = f"arn:aws:iam::{ACCT}:role/examplerole"
SESSION = f"arn:aws:sts::{ACCT}:assumed-role/examplerole/examplerolesessionname"
# the NotPrincipal page's own example principals
AUDIT_SESSION = f"arn:aws:sts::{OTHER_ACCT}:assumed-role/cross-account-read-only-role/cross-account-audit-app"
AUDIT_ROLE = f"arn:aws:iam::{OTHER_ACCT}:role/cross-account-read-only-role"
FOREIGN = f"arn:aws:iam::{OTHER_ACCT}:user/carol"
NOW = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
OBJECTS = f"arn:aws:s3:::{B}/*"
BUCKET = f"arn:aws:s3:::{B}"


def stmt(
    effect: str, principal: Any, action: Any, resource: Any, condition: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    st: dict[str, Any] = {"Effect": effect, "Principal": principal, "Action": action, "Resource": resource, **extra}
    if condition is not None:
        st["Condition"] = condition
    for positive in ("Principal", "Action", "Resource"):
        if st[positive] is None:  # the statement uses the Not... form instead
            del st[positive]
    return st


def pol(*statements: dict[str, Any], version: str = "2012-10-17") -> dict[str, Any]:
    return {"Version": version, "Statement": list(statements)}


def req(action: str, key: str | None = "doc.txt", *, principal: str = ALICE, **kw: Any) -> RequestContext:
    kw.setdefault("current_time", NOW)
    kw.setdefault("identity_allows", False)  # isolate the bucket policy unless a case says otherwise
    return s3_request(action, B, key, principal=principal, **kw)


def case(
    tag: str, name: str, policy: dict[str, Any] | None, request: RequestContext, decision: str, sid: str | None = None
) -> Any:
    return pytest.param(policy, request, decision, sid, id=f"{tag}: {name}")


PUBLIC_READ = pol(stmt("Allow", "*", ["s3:GetObject", "s3:GetObjectVersion"], OBJECTS, Sid="PublicRead"))
# S3EX: "Restricting access to specific IP addresses" (older form, Allow with an exception inside the range)
IP_EXCEPTION = pol(
    stmt(
        "Allow", "*", "s3:*", [BUCKET, OBJECTS],
        {"IpAddress": {"aws:SourceIp": "54.240.143.0/24"}, "NotIpAddress": {"aws:SourceIp": "54.240.143.188/32"}},
        Sid="IPAllow",
    )
)  # fmt: skip
# S3EX: "Allowing IPv4 and IPv6 addresses"
IPV6 = pol(
    stmt(
        "Allow", "*", "s3:*", [BUCKET, OBJECTS],
        {
            "IpAddress": {"aws:SourceIp": ["54.240.143.0/24", "2001:DB8:1234:5678::/64"]},
            "NotIpAddress": {"aws:SourceIp": ["54.240.143.128/30", "2001:DB8:1234:5678:ABCD::/80"]},
        },
        Sid="IPAllow",
    )
)  # fmt: skip
TLS_ONLY = pol(
    stmt("Deny", "*", "s3:*", [BUCKET, OBJECTS], {"Bool": {"aws:SecureTransport": "false"}}, Sid="RestrictToTLSRequestsOnly")
)
LOGGING = pol(
    stmt(
        "Allow", {"Service": "logging.s3.amazonaws.com"}, "s3:PutObject", f"arn:aws:s3:::{B}/EXAMPLE-LOGGING-PREFIX*",
        {"ArnLike": {"aws:SourceArn": "arn:aws:s3:::SOURCE-BUCKET-NAME"}, "StringEquals": {"aws:SourceAccount": ACCT}},
        Sid="S3ServerAccessLogsPolicy",
    )
)  # fmt: skip
MFA = pol(
    stmt("Deny", "*", "s3:*", f"arn:aws:s3:::{B}/taxdocuments/*", {"Null": {"aws:MultiFactorAuthAge": "true"}}, Sid="DenyNoMFA"),
    stmt(
        "Deny",
        "*",
        "s3:*",
        f"arn:aws:s3:::{B}/taxdocuments/*",
        {"NumericGreaterThan": {"aws:MultiFactorAuthAge": "3600"}},
        Sid="DenyOldMFA",
    ),
    stmt("Allow", "*", "s3:GetObject", OBJECTS, Sid="Read"),
)
HOME_DIRS = pol(
    stmt("Allow", {"AWS": ACCT}, "s3:ListBucket", BUCKET, {"StringLike": {"s3:prefix": ["${aws:username}/*"]}}, Sid="List"),
    stmt("Allow", {"AWS": ACCT}, ["s3:GetObject", "s3:PutObject"], f"arn:aws:s3:::{B}/${{aws:username}}/*", Sid="Home"),
)
TAG_KEYS_DENY = pol(  # MVK: "Deny policy with condition set operator ForAllValues" (aws:TagKeys, key1*)
    stmt(
        "Deny",
        "*",
        "s3:PutObjectTagging",
        OBJECTS,
        {"ForAllValues:StringNotLike": {"aws:TagKeys": "key1*"}},
        Sid="DenyRestrictedTags",
    ),
    stmt("Allow", "*", "s3:PutObjectTagging", OBJECTS, Sid="AllowTagging"),
)
FAQ = merge(
    None,
    build_statements(
        B,
        TemplateOptions(
            private_acl_only=True,
            require_sse=(),
            require_tls=True,
            allow_ips=("192.168.143.0/24",),
            deny_ips=("192.168.143.188/32",),
        ),
    ),
)
FAQ_STRICT = merge(None, build_statements(B, TemplateOptions(require_sse=(), sse_strict=True)))
FAQ_IP = "192.168.143.5"


def tagged(*tags: str) -> dict[str, Any]:
    return {"aws:TagKeys": list(tags)}


CASES = [
    # ---- evaluation logic
    case("EVAL", "no policy: anonymous is implicitly denied", None, req("s3:GetObject", principal="anonymous"), "implicit-deny"),
    case("EVAL", "no policy: same-account user allowed by its identity policy", None, req("s3:GetObject", identity_allows=True), "allow"),
    case("S3EX", "public read: anonymous GetObject allowed", PUBLIC_READ, req("s3:GetObject", principal="anonymous"), "allow", "PublicRead"),
    case("S3EX", "public read: anonymous PutObject implicitly denied", PUBLIC_READ, req("s3:PutObject", principal="anonymous"), "implicit-deny"),
    case(
        "EVAL", "explicit deny beats allow",
        pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, Sid="A"), stmt("Deny", "*", "s3:GetObject", OBJECTS, Sid="D")),
        req("s3:GetObject", principal="anonymous"), "explicit-deny", "D",
    ),  # fmt: skip
    case("EVAL", "deny in bucket policy beats identity allow", TLS_ONLY, req("s3:GetObject", identity_allows=True, secure_transport=False), "explicit-deny", "RestrictToTLSRequestsOnly"),
    case("EVAL", "same account: bucket policy naming the user allows without identity policy",
         pol(stmt("Allow", {"AWS": ALICE}, "s3:GetObject", OBJECTS, Sid="U")), req("s3:GetObject"), "allow", "U"),  # fmt: skip
    case("XACCT", "cross-account: bucket allow alone is not enough",
         pol(stmt("Allow", {"AWS": OTHER_ACCT}, "s3:GetObject", OBJECTS, Sid="X")),
         req("s3:GetObject", principal=FOREIGN, bucket_account=ACCT), "implicit-deny"),  # fmt: skip
    case("XACCT", "cross-account: bucket allow plus identity allow",
         pol(stmt("Allow", {"AWS": OTHER_ACCT}, "s3:GetObject", OBJECTS, Sid="X")),
         req("s3:GetObject", principal=FOREIGN, bucket_account=ACCT, identity_allows=True), "allow", "X"),  # fmt: skip
    case("XACCT", "cross-account: identity allow alone is not enough", None,
         req("s3:GetObject", principal=FOREIGN, bucket_account=ACCT, identity_allows=True), "implicit-deny"),  # fmt: skip
    case("S3API", "owner root may still put the policy despite a Deny *",
         pol(stmt("Deny", "*", "s3:*", [BUCKET, OBJECTS], Sid="All")),
         req("s3:PutBucketPolicy", None, principal=f"arn:aws:iam::{ACCT}:root", bucket_account=ACCT), "allow"),  # fmt: skip
    case("S3API", "owner root is still denied object reads",
         pol(stmt("Deny", "*", "s3:*", [BUCKET, OBJECTS], Sid="All")),
         req("s3:GetObject", principal=ACCT, bucket_account=ACCT), "explicit-deny", "All"),  # fmt: skip
    # ---- principals
    case("PRINCIPAL", '{"AWS": "*"} is everyone, anonymous included',
         pol(stmt("Allow", {"AWS": "*"}, "s3:GetObject", OBJECTS, Sid="P")), req("s3:GetObject", principal="anonymous"), "allow", "P"),  # fmt: skip
    # issue 20.9: an account principal delegates to the account, whose users need their own identity policy too
    case("PRINCIPAL", "account id delegates: a user of it whose identity policy allows is allowed",
         pol(stmt("Allow", {"AWS": ACCT}, "s3:GetObject", OBJECTS, Sid="P")), req("s3:GetObject", identity_allows=True), "allow", "P"),  # fmt: skip
    case("PRINCIPAL", "account id delegates: a user of it without an identity allow is not",
         pol(stmt("Allow", {"AWS": ACCT}, "s3:GetObject", OBJECTS, Sid="P")), req("s3:GetObject"), "implicit-deny", None),  # fmt: skip
    case("PRINCIPAL", "account id delegates: the foreign user of the issue, without an identity allow",
         pol(stmt("Allow", {"AWS": OTHER_ACCT}, "s3:GetObject", OBJECTS, Sid="P")), req("s3:GetObject", principal=FOREIGN), "implicit-deny", None),  # fmt: skip
    case("PRINCIPAL", "account id delegates: the account's root user is the account itself",
         pol(stmt("Allow", {"AWS": ACCT}, "s3:GetObject", OBJECTS, Sid="P")), req("s3:GetObject", principal=ACCT), "allow", "P"),  # fmt: skip
    case("PRINCIPAL", "root ARN means the same as the account id",
         pol(stmt("Allow", {"AWS": f"arn:aws:iam::{ACCT}:root"}, "s3:GetObject", OBJECTS, Sid="P")), req("s3:GetObject"), "implicit-deny", None),  # fmt: skip
    case("PRINCIPAL", "root ARN delegates like the account id",
         pol(stmt("Allow", {"AWS": f"arn:aws:iam::{ACCT}:root"}, "s3:GetObject", OBJECTS, Sid="P")), req("s3:GetObject", identity_allows=True), "allow", "P"),  # fmt: skip
    case("PRINCIPAL", "a user named by its own ARN needs no identity allow in the bucket's account",
         pol(stmt("Allow", {"AWS": [ACCT, ALICE]}, "s3:GetObject", OBJECTS, Sid="P")), req("s3:GetObject"), "allow", "P"),  # fmt: skip
    case("PRINCIPAL", "role ARN covers its assumed-role sessions",
         pol(stmt("Allow", {"AWS": ROLE}, "s3:GetObject", OBJECTS, Sid="P")), req("s3:GetObject", principal=SESSION), "allow", "P"),  # fmt: skip
    case("PRINCIPAL", "a user ARN does not cover another user",
         pol(stmt("Allow", {"AWS": ALICE}, "s3:GetObject", OBJECTS, Sid="P")), req("s3:GetObject", principal=BOB), "implicit-deny"),  # fmt: skip
    case("PRINCIPAL", "canonical user principal",
         pol(stmt("Allow", {"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}, "s3:GetObject", OBJECTS, Sid="C")),
         req("s3:GetObject", principal="79A59DF900B949E55D96A1E698FBACEDFD6E09D98EACF8F8D5218E7CD47EF2BE"), "allow", "C"),  # fmt: skip
    case("NOTPRINCIPAL", "Deny with NotPrincipal user+account: that user passes",
         pol(stmt("Deny", None, "s3:*", OBJECTS, NotPrincipal={"AWS": [ALICE, f"arn:aws:iam::{ACCT}:root"]}, Sid="N")),
         req("s3:GetObject"), "implicit-deny"),  # fmt: skip
    case("NOTPRINCIPAL", "Deny with NotPrincipal user+account: other users denied",
         pol(stmt("Deny", None, "s3:*", OBJECTS, NotPrincipal={"AWS": [ALICE, f"arn:aws:iam::{ACCT}:root"]}, Sid="N")),
         req("s3:GetObject", principal=BOB, identity_allows=True), "explicit-deny", "N"),  # fmt: skip
    case("NOTPRINCIPAL", "NotPrincipal without the account ARN still denies the user",
         pol(stmt("Deny", None, "s3:*", OBJECTS, NotPrincipal={"AWS": [ALICE]}, Sid="N")),
         req("s3:GetObject", identity_allows=True), "explicit-deny", "N"),  # fmt: skip
    case("NOTPRINCIPAL", "role session escapes when session, role and account are listed",
         pol(stmt("Deny", None, "s3:*", [BUCKET, OBJECTS], NotPrincipal={"AWS": [AUDIT_SESSION, AUDIT_ROLE, f"arn:aws:iam::{OTHER_ACCT}:root"]}, Sid="N"),
             stmt("Allow", {"AWS": AUDIT_ROLE}, "s3:GetObject", OBJECTS, Sid="A")),
         req("s3:GetObject", principal=AUDIT_SESSION, identity_allows=True, bucket_account=ACCT), "allow", "A"),  # fmt: skip
    case("NOTPRINCIPAL", "a role ARN with a path still names the role of the session",
         pol(stmt("Deny", None, "s3:*", OBJECTS, NotPrincipal={"AWS": [f"arn:aws:iam::{ACCT}:role/team/examplerole", f"arn:aws:iam::{ACCT}:root", SESSION]}, Sid="N")),
         req("s3:GetObject", principal=SESSION, identity_allows=True), "allow"),  # fmt: skip
    case("NOTPRINCIPAL", "role session without the role ARN listed is denied",
         pol(stmt("Deny", None, "s3:*", [BUCKET, OBJECTS], NotPrincipal={"AWS": [AUDIT_SESSION, f"arn:aws:iam::{OTHER_ACCT}:root"]}, Sid="N"),
             stmt("Allow", {"AWS": AUDIT_ROLE}, "s3:GetObject", OBJECTS, Sid="A")),
         req("s3:GetObject", principal=AUDIT_SESSION, identity_allows=True, bucket_account=ACCT), "explicit-deny", "N"),  # fmt: skip
    case("NOTPRINCIPAL", "NotPrincipal Deny applies to anonymous callers",
         pol(stmt("Deny", None, "s3:*", OBJECTS, NotPrincipal={"AWS": [ALICE, f"arn:aws:iam::{ACCT}:root"]}, Sid="N"),
             stmt("Allow", "*", "s3:GetObject", OBJECTS, Sid="A")),
         req("s3:GetObject", principal="anonymous"), "explicit-deny", "N"),  # fmt: skip
    case("S3LOG", "logging service with the right source bucket and account", LOGGING,
         req("s3:PutObject", "EXAMPLE-LOGGING-PREFIX2024-05-01", principal="logging.s3.amazonaws.com",
             extra={"aws:SourceArn": "arn:aws:s3:::SOURCE-BUCKET-NAME", "aws:SourceAccount": ACCT}), "allow", "S3ServerAccessLogsPolicy"),  # fmt: skip
    case("S3LOG", "logging service for another account is not allowed", LOGGING,
         req("s3:PutObject", "EXAMPLE-LOGGING-PREFIX2024-05-01", principal="logging.s3.amazonaws.com",
             extra={"aws:SourceArn": "arn:aws:s3:::SOURCE-BUCKET-NAME", "aws:SourceAccount": OTHER_ACCT}), "implicit-deny"),  # fmt: skip
    case("S3LOG", "logging service for another source bucket is not allowed", LOGGING,
         req("s3:PutObject", "EXAMPLE-LOGGING-PREFIX2024-05-01", principal="logging.s3.amazonaws.com",
             extra={"aws:SourceArn": "arn:aws:s3:::other-bucket", "aws:SourceAccount": ACCT}), "implicit-deny"),  # fmt: skip
    case("S3LOG", "logging service outside the log prefix is not allowed", LOGGING,
         req("s3:PutObject", "data/x", principal="logging.s3.amazonaws.com",
             extra={"aws:SourceArn": "arn:aws:s3:::SOURCE-BUCKET-NAME", "aws:SourceAccount": ACCT}), "implicit-deny"),  # fmt: skip
    case("EVAL", "a service principal has no identity policy to fall back on", None,
         req("s3:PutObject", principal="logging.s3.amazonaws.com", identity_allows=True), "implicit-deny"),  # fmt: skip
    # ---- actions and resources
    case("ACTION", "action names are case-insensitive",
         pol(stmt("Allow", "*", "S3:getobject", OBJECTS, Sid="A")), req("s3:GetObject", principal="anonymous"), "allow", "A"),  # fmt: skip
    case("ACTION", "s3:Get* covers GetObjectVersion",
         pol(stmt("Allow", "*", "s3:Get*", OBJECTS, Sid="A")), req("s3:GetObjectVersion", principal="anonymous"), "allow", "A"),  # fmt: skip
    case("ACTION", "s3:Get* does not cover PutObject",
         pol(stmt("Allow", "*", "s3:Get*", OBJECTS, Sid="A")), req("s3:PutObject", principal="anonymous"), "implicit-deny"),  # fmt: skip
    case("ACTION", "Deny NotAction denies everything else",
         pol(stmt("Deny", {"AWS": ACCT}, None, OBJECTS, NotAction="s3:GetObject", Sid="OnlyRead")),
         req("s3:PutObject", identity_allows=True), "explicit-deny", "OnlyRead"),  # fmt: skip
    case("ACTION", "Deny NotAction leaves the listed action alone",
         pol(stmt("Deny", {"AWS": ACCT}, None, OBJECTS, NotAction="s3:GetObject", Sid="OnlyRead")),
         req("s3:GetObject", identity_allows=True), "allow"),  # fmt: skip
    case("RESOURCE", "resource ARNs are case-sensitive",
         pol(stmt("Allow", "*", "s3:GetObject", f"arn:aws:s3:::{B}/Photos/*", Sid="R")),
         req("s3:GetObject", "photos/cat.jpg", principal="anonymous"), "implicit-deny"),  # fmt: skip
    case("RESOURCE", "? matches exactly one character",
         pol(stmt("Allow", "*", "s3:GetObject", f"arn:aws:s3:::{B}/log-2024-0?.txt", Sid="R")),
         req("s3:GetObject", "log-2024-05.txt", principal="anonymous"), "allow", "R"),  # fmt: skip
    case("RESOURCE", '"Resource": "*" covers every bucket and object',
         pol(stmt("Allow", "*", "s3:GetObject", "*", Sid="R")), req("s3:GetObject", "a/b/c", principal="anonymous"), "allow", "R"),  # fmt: skip
    case("RESOURCE", "Deny NotResource protects everything outside public/",
         pol(stmt("Deny", "*", "s3:GetObject", None, NotResource=f"arn:aws:s3:::{B}/public/*", Sid="NR"),
             stmt("Allow", "*", "s3:GetObject", OBJECTS, Sid="A")),
         req("s3:GetObject", "private/x", principal="anonymous"), "explicit-deny", "NR"),  # fmt: skip
    case("RESOURCE", "Deny NotResource lets public/ through",
         pol(stmt("Deny", "*", "s3:GetObject", None, NotResource=f"arn:aws:s3:::{B}/public/*", Sid="NR"),
             stmt("Allow", "*", "s3:GetObject", OBJECTS, Sid="A")),
         req("s3:GetObject", "public/x", principal="anonymous"), "allow", "A"),  # fmt: skip
    # ---- policy variables
    case("VARS", "${aws:username} home directory: own folder", HOME_DIRS, req("s3:GetObject", "alice/notes.txt", identity_allows=True), "allow", "Home"),
    case("VARS", "${aws:username} home directory: someone else's folder", HOME_DIRS, req("s3:GetObject", "bob/notes.txt"), "implicit-deny"),
    case("VARS", "${aws:username} in StringLike s3:prefix", HOME_DIRS, req("s3:ListBucket", None, identity_allows=True, extra={"s3:prefix": "alice/"}), "allow", "List"),
    case("VARS", "variable without a value (role session has no aws:username) matches nothing", HOME_DIRS,
         req("s3:GetObject", "examplerolesessionname/x", principal=SESSION), "implicit-deny"),  # fmt: skip
    case("VARS", "variable without a value: inverted operator (StringNotEquals) matches",
         pol(stmt("Deny", "*", "s3:GetObject", OBJECTS, {"StringNotEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/Team}"}}, Sid="T")),
         req("s3:GetObject", identity_allows=True, extra={"s3:ExistingObjectTag/Team": "blue"}), "explicit-deny", "T"),  # fmt: skip
    case("VARS", "default value when the variable has no value",
         pol(stmt("Allow", "*", "s3:GetObject", "arn:aws:s3:::amzn-s3-demo-bucket-${aws:PrincipalTag/team, 'company-wide'}/*", Sid="D")),
         s3_request("s3:GetObject", "amzn-s3-demo-bucket-company-wide", "x", principal=ALICE, identity_allows=False, current_time=NOW), "allow", "D"),  # fmt: skip
    case("VARS", "Version 2008-10-17 treats ${aws:username} as literal text",
         pol(stmt("Allow", {"AWS": ACCT}, "s3:GetObject", f"arn:aws:s3:::{B}/${{aws:username}}/*", Sid="Old"), version="2008-10-17"),
         req("s3:GetObject", "alice/notes.txt"), "implicit-deny"),  # fmt: skip
    case("VARS", "${*} is a literal asterisk, not a wildcard",
         pol(stmt("Allow", "*", "s3:GetObject", f"arn:aws:s3:::{B}/star${{*}}", Sid="S")),
         req("s3:GetObject", "starfish", principal="anonymous"), "implicit-deny"),  # fmt: skip
    # ---- condition operators
    case("OPS", "StringEquals is case-sensitive",
         pol(stmt("Allow", "*", "s3:PutObject", OBJECTS, {"StringEquals": {"s3:x-amz-acl": "public-read"}}, Sid="S")),
         req("s3:PutObject", principal="anonymous", acl="PUBLIC-READ"), "implicit-deny"),  # fmt: skip
    case("OPS", "StringEqualsIgnoreCase ignores case",
         pol(stmt("Allow", "*", "s3:PutObject", OBJECTS, {"StringEqualsIgnoreCase": {"s3:x-amz-acl": "public-read"}}, Sid="S")),
         req("s3:PutObject", principal="anonymous", acl="PUBLIC-READ"), "allow", "S"),  # fmt: skip
    case("S3EX", "StringLike aws:Referer (restricting access to a specific HTTP referer)",
         pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, {"StringLike": {"aws:Referer": ["https://www.example.com/*", "https://example.com/*"]}}, Sid="R")),
         req("s3:GetObject", principal="anonymous", extra={"aws:Referer": "https://example.com/page"}), "allow", "R"),  # fmt: skip
    case("OPS", "missing key: positive operator is false",
         pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, {"StringLike": {"aws:Referer": "https://example.com/*"}}, Sid="R")),
         req("s3:GetObject", principal="anonymous"), "implicit-deny"),  # fmt: skip
    case("OPS", "missing key: negated operator (StringNotLike) is true",
         pol(stmt("Deny", "*", "s3:GetObject", OBJECTS, {"StringNotLike": {"aws:Referer": "https://example.com/*"}}, Sid="R")),
         req("s3:GetObject", identity_allows=True), "explicit-deny", "R"),  # fmt: skip
    case("OPS", "missing key: StringEqualsIfExists is true",
         pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, {"StringEqualsIfExists": {"aws:Referer": "https://example.com/"}}, Sid="I")),
         req("s3:GetObject", principal="anonymous"), "allow", "I"),  # fmt: skip
    case("OPS", "present key: StringEqualsIfExists compares as usual",
         pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, {"StringEqualsIfExists": {"aws:Referer": "https://example.com/"}}, Sid="I")),
         req("s3:GetObject", principal="anonymous", extra={"aws:Referer": "https://evil.example/"}), "implicit-deny"),  # fmt: skip
    case("OPS", "missing key: StringNotEqualsIfExists is true too (so a Deny with it fires)",
         pol(stmt("Deny", "*", "s3:PutObject", OBJECTS, {"StringNotEqualsIfExists": {"s3:x-amz-acl": "private"}}, Sid="I")),
         req("s3:PutObject", identity_allows=True), "explicit-deny", "I"),  # fmt: skip
    case("S3COND", "NumericLessThanEquals s3:max-keys within the limit",
         pol(stmt("Allow", "*", "s3:ListBucket", BUCKET, {"NumericLessThanEquals": {"s3:max-keys": "10"}}, Sid="N")),
         req("s3:ListBucket", None, principal="anonymous", extra={"s3:max-keys": "10"}), "allow", "N"),  # fmt: skip
    case("S3COND", "NumericLessThanEquals s3:max-keys over the limit",
         pol(stmt("Allow", "*", "s3:ListBucket", BUCKET, {"NumericLessThanEquals": {"s3:max-keys": "10"}}, Sid="N")),
         req("s3:ListBucket", None, principal="anonymous", extra={"s3:max-keys": "11"}), "implicit-deny"),  # fmt: skip
    case("S3EX", "MFA required: no MFA (Null aws:MultiFactorAuthAge true) denied", MFA,
         req("s3:GetObject", "taxdocuments/2023.pdf", principal="anonymous"), "explicit-deny", "DenyNoMFA"),  # fmt: skip
    case("S3EX", "MFA required: MFA older than an hour denied", MFA,
         req("s3:GetObject", "taxdocuments/2023.pdf", extra={"aws:MultiFactorAuthAge": "7200"}), "explicit-deny", "DenyOldMFA"),  # fmt: skip
    case("S3EX", "MFA required: recent MFA allowed", MFA,
         req("s3:GetObject", "taxdocuments/2023.pdf", extra={"aws:MultiFactorAuthAge": "120"}), "allow", "Read"),  # fmt: skip
    case("OPS", "DateGreaterThan/DateLessThan window on aws:CurrentTime: inside",
         pol(stmt("Allow", "*", "s3:GetObject", OBJECTS,
                  {"DateGreaterThan": {"aws:CurrentTime": "2024-04-01T00:00:00Z"}, "DateLessThan": {"aws:CurrentTime": "2024-06-30T23:59:59Z"}}, Sid="W")),
         req("s3:GetObject", principal="anonymous"), "allow", "W"),  # fmt: skip
    case("OPS", "DateGreaterThan/DateLessThan window on aws:CurrentTime: after",
         pol(stmt("Allow", "*", "s3:GetObject", OBJECTS,
                  {"DateGreaterThan": {"aws:CurrentTime": "2024-04-01T00:00:00Z"}, "DateLessThan": {"aws:CurrentTime": "2024-04-30T23:59:59Z"}}, Sid="W")),
         req("s3:GetObject", principal="anonymous"), "implicit-deny"),  # fmt: skip
    case("OPS", "Date operators accept epoch seconds",
         pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, {"DateLessThanEquals": {"aws:EpochTime": str(int(NOW.timestamp()))}}, Sid="E")),
         req("s3:GetObject", principal="anonymous"), "allow", "E"),  # fmt: skip
    case("S3EX", "aws:SecureTransport false denied (HTTP)", TLS_ONLY, req("s3:GetObject", identity_allows=True, secure_transport=False), "explicit-deny", "RestrictToTLSRequestsOnly"),
    case("S3EX", "aws:SecureTransport true passes (HTTPS)", TLS_ONLY, req("s3:GetObject", identity_allows=True), "allow"),
    case("S3EX", "IP range 54.240.143.0/24: inside allowed", IP_EXCEPTION, req("s3:GetObject", principal="anonymous", source_ip="54.240.143.5"), "allow", "IPAllow"),
    case("S3EX", "IP range exception 54.240.143.188/32 not allowed", IP_EXCEPTION, req("s3:GetObject", principal="anonymous", source_ip="54.240.143.188"), "implicit-deny"),
    case("S3EX", "IP outside 54.240.143.0/24 not allowed", IP_EXCEPTION, req("s3:GetObject", principal="anonymous", source_ip="192.0.2.1"), "implicit-deny"),
    case("S3EX", "IPv6 inside 2001:DB8:1234:5678::/64 allowed", IPV6, req("s3:GetObject", principal="anonymous", source_ip="2001:db8:1234:5678::1"), "allow", "IPAllow"),
    case("S3EX", "IPv6 exception 2001:DB8:1234:5678:ABCD::/80 not allowed", IPV6,
         req("s3:GetObject", principal="anonymous", source_ip="2001:db8:1234:5678:abcd::9"), "implicit-deny"),  # fmt: skip
    case("S3EX", "IPv4 exception 54.240.143.128/30 not allowed", IPV6, req("s3:GetObject", principal="anonymous", source_ip="54.240.143.129"), "implicit-deny"),
    case("OPS", "ArnLike wildcards stay inside one ARN component",
         pol(stmt("Allow", {"AWS": ACCT}, "s3:GetObject", OBJECTS, {"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/examplerole"}}, Sid="A")),
         req("s3:GetObject", principal=SESSION, identity_allows=True), "allow", "A"),  # fmt: skip
    case("OPS", "ArnNotLike: deny everyone but the admin role (others denied)",
         pol(stmt("Deny", "*", "s3:*", [BUCKET, OBJECTS], {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/admin*"}}, Sid="OnlyAdmin")),
         req("s3:GetObject", identity_allows=True), "explicit-deny", "OnlyAdmin"),  # fmt: skip
    case("OPS", "ArnNotLike: the admin role is not denied",
         pol(stmt("Deny", "*", "s3:*", [BUCKET, OBJECTS], {"ArnNotLike": {"aws:PrincipalArn": f"arn:aws:iam::{ACCT}:role/admin*"}}, Sid="OnlyAdmin")),
         req("s3:GetObject", principal=f"arn:aws:sts::{ACCT}:assumed-role/admin-ops/s1", identity_allows=True), "allow"),  # fmt: skip
    case("S3EX", "classic SSE policy: Null s3:x-amz-server-side-encryption true denies a header-less upload",
         pol(stmt("Deny", "*", "s3:PutObject", OBJECTS, {"Null": {"s3:x-amz-server-side-encryption": "true"}}, Sid="DenyUnEncryptedObjectUploads")),
         req("s3:PutObject", identity_allows=True), "explicit-deny", "DenyUnEncryptedObjectUploads"),  # fmt: skip
    case("OPS", "Null false: key present",
         pol(stmt("Allow", "*", "s3:PutObject", OBJECTS, {"Null": {"s3:x-amz-server-side-encryption": "false"}}, Sid="N")),
         req("s3:PutObject", principal="anonymous", sse="AES256"), "allow", "N"),  # fmt: skip
    case("MULTI", "several values for one key are OR-ed",
         pol(stmt("Allow", "*", "s3:PutObject", OBJECTS, {"StringEquals": {"s3:x-amz-acl": ["private", "bucket-owner-full-control"]}}, Sid="O")),
         req("s3:PutObject", principal="anonymous", acl="bucket-owner-full-control"), "allow", "O"),  # fmt: skip
    case("MULTI", "several values of a negated operator are NOR-ed",
         pol(stmt("Deny", "*", "s3:PutObject", OBJECTS, {"StringNotEquals": {"s3:x-amz-server-side-encryption": ["AES256", "aws:kms"]}}, Sid="N")),
         req("s3:PutObject", identity_allows=True, sse="aws:kms"), "allow"),  # fmt: skip
    case("MULTI", "several keys (and operators) are AND-ed",
         pol(stmt("Allow", "*", "s3:PutObject", OBJECTS,
                  {"StringEquals": {"s3:x-amz-acl": "private", "s3:x-amz-server-side-encryption": "AES256"}, "Bool": {"aws:SecureTransport": "true"}}, Sid="A")),
         req("s3:PutObject", principal="anonymous", acl="private", sse="aws:kms"), "implicit-deny"),  # fmt: skip
    case("MVK", "ForAllValues:StringNotLike key1*: [key1:legal] does not match", TAG_KEYS_DENY,
         req("s3:PutObjectTagging", principal="anonymous", extra=tagged("key1:legal")), "allow", "AllowTagging"),  # fmt: skip
    case("MVK", "ForAllValues:StringNotLike key1*: [key1:hr, key1:personnel] does not match", TAG_KEYS_DENY,
         req("s3:PutObjectTagging", principal="anonymous", extra=tagged("key1:hr", "key1:personnel")), "allow", "AllowTagging"),  # fmt: skip
    case("MVK", "ForAllValues:StringNotLike key1*: [key2:audit] matches", TAG_KEYS_DENY,
         req("s3:PutObjectTagging", principal="anonymous", extra=tagged("key2:audit")), "explicit-deny", "DenyRestrictedTags"),  # fmt: skip
    case("MVK", "ForAllValues:StringNotLike key1*: no aws:TagKeys matches", TAG_KEYS_DENY,
         req("s3:PutObjectTagging", principal="anonymous"), "explicit-deny", "DenyRestrictedTags"),  # fmt: skip
    case("MVK", "ForAnyValue:StringEquals: one tag key in the list is enough",
         pol(stmt("Deny", "*", "s3:PutObjectTagging", OBJECTS, {"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "webserver"]}}, Sid="F")),
         req("s3:PutObjectTagging", identity_allows=True, extra=tagged("owner", "webserver")), "explicit-deny", "F"),  # fmt: skip
    case("MVK", "ForAnyValue:StringEquals: missing key is false",
         pol(stmt("Deny", "*", "s3:PutObjectTagging", OBJECTS, {"ForAnyValue:StringEquals": {"aws:TagKeys": ["environment", "webserver"]}}, Sid="F")),
         req("s3:PutObjectTagging", identity_allows=True), "allow"),  # fmt: skip
    case("COPILOT", "ForAnyValue:StringNotEquals: one request value outside the list",
         pol(stmt("Allow", "*", "s3:PutObjectTagging", OBJECTS, {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["DataClass", "Owner"]}}, Sid="F")),
         req("s3:PutObjectTagging", principal="anonymous", extra=tagged("Dept", "DataClass")), "allow", "F"),  # fmt: skip
    case("COPILOT", "ForAnyValue:StringNotEquals: every request value in the list",
         pol(stmt("Allow", "*", "s3:PutObjectTagging", OBJECTS, {"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["DataClass", "Owner"]}}, Sid="F")),
         req("s3:PutObjectTagging", principal="anonymous", extra=tagged("DataClass", "Owner")), "implicit-deny"),  # fmt: skip
    case("COPILOT", "ForAnyValue:StringNotEqualsIfExists on a missing key is still false",
         pol(stmt("Allow", "*", "s3:PutObjectTagging", OBJECTS, {"ForAnyValue:StringNotEqualsIfExists": {"aws:TagKeys": ["DataClass"]}}, Sid="F")),
         req("s3:PutObjectTagging", principal="anonymous"), "implicit-deny"),  # fmt: skip
    case("COPILOT", "ForAllValues:StringEqualsIfExists on a missing key is true",
         pol(stmt("Allow", "*", "s3:PutObjectTagging", OBJECTS, {"ForAllValues:StringEqualsIfExists": {"aws:TagKeys": ["DataClass"]}}, Sid="F")),
         req("s3:PutObjectTagging", principal="anonymous"), "allow", "F"),  # fmt: skip
    case("S3COND", "s3:ExistingObjectTag/environment production",
         pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, {"StringEquals": {"s3:ExistingObjectTag/environment": "production"}}, Sid="T")),
         req("s3:GetObject", principal="anonymous", extra={"s3:ExistingObjectTag/environment": "production"}), "allow", "T"),  # fmt: skip
    case("VARS", "condition key names are case-insensitive (the tag key keeps its case)",
         pol(stmt("Deny", "*", "s3:*", OBJECTS, {"Bool": {"AWS:securetransport": "false"}}, Sid="K"),
             stmt("Allow", "*", "s3:GetObject", OBJECTS, {"StringEquals": {"S3:EXISTINGOBJECTTAG/Environment": "production"}}, Sid="T")),
         req("s3:GetObject", principal="anonymous", secure_transport=False, extra={"s3:ExistingObjectTag/environment": "production"}),
         "explicit-deny", "K"),  # fmt: skip
    # ---- the FAQ policies, built by the templates
    case("FAQ", "PutObject with public-read ACL denied", FAQ,
         req("s3:PutObject", source_ip=FAQ_IP, acl="public-read", identity_allows=True), "explicit-deny", "S3SafeDenyNonPrivateAcl"),  # fmt: skip
    case("FAQ", "PutObjectAcl to public-read denied", FAQ,
         req("s3:PutObjectAcl", source_ip=FAQ_IP, acl="public-read", identity_allows=True), "explicit-deny", "S3SafeDenyNonPrivateAcl"),  # fmt: skip
    case("FAQ", "PutObject with an invalid SSE header denied", FAQ,
         req("s3:PutObject", source_ip=FAQ_IP, sse="DES", identity_allows=True), "explicit-deny", "S3SafeDenyUnapprovedSse"),  # fmt: skip
    case("FAQ", "PutObject from 192.168.143.188 denied", FAQ,
         req("s3:PutObject", source_ip="192.168.143.188", acl="private", sse="AES256", identity_allows=True), "explicit-deny", "S3SafeDenyBlockedIps"),  # fmt: skip
    case("FAQ", "PutObject from 192.168.143.5 (private ACL, AES256, HTTPS) allowed", FAQ,
         req("s3:PutObject", source_ip=FAQ_IP, acl="private", sse="AES256", identity_allows=True), "allow"),  # fmt: skip
    case("FAQ", "PutObject over HTTP denied", FAQ,
         req("s3:PutObject", source_ip=FAQ_IP, acl="private", sse="AES256", secure_transport=False, identity_allows=True),
         "explicit-deny", "S3SafeDenyInsecureTransport"),  # fmt: skip
    case("FAQ", "GetObject from outside 192.168.143.0/24 denied", FAQ,
         req("s3:GetObject", source_ip="10.1.2.3", identity_allows=True), "explicit-deny", "S3SafeDenyOutsideAllowedIps"),  # fmt: skip
    case("FAQ", "upload with no ACL and no SSE header (ACLs disabled, bucket default encryption, UploadPart) allowed", FAQ,
         req("s3:PutObject", source_ip=FAQ_IP, identity_allows=True), "allow"),  # fmt: skip
    case("FAQ", "aws:kms upload allowed", FAQ, req("s3:PutObject", source_ip=FAQ_IP, sse="aws:kms", identity_allows=True), "allow"),
    case("FAQ", "bucket-owner-full-control is not private: denied", FAQ,
         req("s3:PutObject", source_ip=FAQ_IP, acl="bucket-owner-full-control", identity_allows=True), "explicit-deny", "S3SafeDenyNonPrivateAcl"),  # fmt: skip
    case("FAQ", "anonymous caller: no Allow in the bucket policy, implicitly denied", FAQ,
         req("s3:GetObject", principal="anonymous", source_ip=FAQ_IP), "implicit-deny"),  # fmt: skip
    case("FAQ", "strict SSE: upload without the header denied", FAQ_STRICT,
         req("s3:PutObject", identity_allows=True), "explicit-deny", "S3SafeDenyMissingSse"),  # fmt: skip
    case("FAQ", "strict SSE: AES256 upload allowed", FAQ_STRICT, req("s3:PutObject", identity_allows=True, sse="AES256"), "allow"),
]  # fmt: skip


@pytest.mark.parametrize(("policy", "request_", "decision", "sid"), CASES)
def test_documented_case(policy: dict[str, Any] | None, request_: RequestContext, decision: str, sid: str | None) -> None:
    result = evaluate(policy, request_)
    assert result.decision == decision, result.explanation
    if sid is not None:
        assert result.sid == sid, result.explanation


def test_every_case_cites_a_known_source() -> None:
    assert len(CASES) >= 40
    for param in CASES:
        tag = str(param.id).split(":", 1)[0]
        assert tag in SOURCES, param.id


# ------------------------------------------------------------------ the FAQ template, literal vs ours


def test_faq_literal_acl_policy_also_denies_requests_without_the_header() -> None:
    """OPS: the FAQ's literal StringNotEquals (and its IfExists form) is true on a missing key — so it denies
    uploads that send no x-amz-acl (ACL-disabled buckets, UploadPart). Our template adds Null=false."""
    for operator in ("StringNotEquals", "StringNotEqualsIfExists"):
        literal = pol(stmt("Deny", "*", "s3:PutObject", OBJECTS, {operator: {"s3:x-amz-acl": "private"}}, Sid="FaqAcl"))
        assert evaluate(literal, req("s3:PutObject", identity_allows=True)).decision == "explicit-deny"
    ours = merge(None, build_statements(B, TemplateOptions(private_acl_only=True)))
    assert evaluate(ours, req("s3:PutObject", identity_allows=True)).decision == "allow"
    assert evaluate(ours, req("s3:PutObject", identity_allows=True, acl="private")).decision == "allow"
    assert evaluate(ours, req("s3:PutObject", identity_allows=True, acl="public-read-write")).decision == "explicit-deny"


def test_result_explains_the_deciding_statement() -> None:
    result = evaluate(FAQ, req("s3:PutObject", source_ip="192.168.143.188", identity_allows=True))
    assert result.statement_index is not None
    assert "S3SafeDenyBlockedIps" in result.explanation
    assert "192.168.143.188" in result.explanation
    assert result.denied_by == (result.statement_index,)
    assert not result.allowed


def test_every_applying_statement_is_reported() -> None:
    result = evaluate(
        FAQ, req("s3:PutObject", source_ip="10.0.0.1", acl="public-read", secure_transport=False, identity_allows=True)
    )
    assert result.decision == "explicit-deny"
    assert len(result.denied_by) == 3  # TLS, ACL, outside the allow-list
    assert result.statement_index == result.denied_by[0]


def test_compiled_policy_can_be_reused() -> None:
    compiled = parse_policy(TLS_ONLY)
    assert evaluate(compiled, req("s3:GetObject", identity_allows=True)).allowed
    assert not evaluate(compiled, req("s3:GetObject", identity_allows=True, secure_transport=False)).allowed


def test_policy_given_as_json_text() -> None:
    text = '{"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}'
    assert evaluate(text, s3_request("s3:GetObject", "b", "k", current_time=NOW, identity_allows=False)).allowed


def test_json_booleans_and_numbers_in_conditions() -> None:
    """OPS: condition values may be written as JSON booleans and numbers."""
    policy = pol(
        stmt("Deny", "*", "s3:*", OBJECTS, {"Bool": {"aws:SecureTransport": False}}, Sid="TLS"),
        stmt("Deny", "*", "s3:ListBucket", BUCKET, {"NumericGreaterThan": {"s3:max-keys": 100}}, Sid="Keys"),
    )
    assert evaluate(policy, req("s3:GetObject", identity_allows=True, secure_transport=False)).sid == "TLS"
    assert evaluate(policy, req("s3:ListBucket", None, identity_allows=True, extra={"s3:max-keys": "1000"})).sid == "Keys"
    assert evaluate(policy, req("s3:ListBucket", None, identity_allows=True, extra={"s3:max-keys": "abc"})).allowed


# --------------------------------------------------------------------------------------- malformed


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param(pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, {"StringEqualz": {"k": "v"}})), "unknown condition operator", id="OPS: unknown operator"),
        pytest.param(pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, {"NullIfExists": {"k": "true"}})), "Null takes neither", id="OPS: Null has no IfExists"),
        pytest.param(pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, {"ForSomeValues:StringEquals": {"k": "v"}})), "set operator", id="OPS: unknown set operator"),
        pytest.param(pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, {"IpAddress": {"aws:SourceIp": "300.1.1.1/8"}})), "not an IPv4", id="OPS: bad CIDR"),
        pytest.param(pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, {"NumericLessThan": {"s3:max-keys": "ten"}})), "not a number", id="OPS: bad number"),
        pytest.param(pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, {"NumericLessThan": {"s3:max-keys": "NaN"}})), "not a number", id="OPS: NaN is no number"),
        pytest.param(pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, {"DateLessThan": {"aws:CurrentTime": "soon"}})), "not an ISO 8601", id="OPS: bad date"),
        pytest.param(pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, {"Bool": {"aws:SecureTransport": "yes"}})), "true or false", id="OPS: bad bool"),
        pytest.param(pol(stmt("Permit", "*", "s3:GetObject", OBJECTS)), "Effect", id="EVAL: bad Effect"),
        pytest.param(pol({"Effect": "Allow", "Action": "s3:GetObject", "Resource": OBJECTS}), "Principal or NotPrincipal", id="PRINCIPAL: missing"),
        pytest.param(pol(stmt("Allow", {"AWS": f"arn:aws:iam::{ACCT}:user/*"}, "s3:GetObject", OBJECTS)), "wildcards are not allowed", id="PRINCIPAL: partial wildcard"),
        pytest.param(pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, NotAction="s3:PutObject")), "exactly one of Action or NotAction", id="ACTION: both"),
        pytest.param(pol(stmt("Allow", "*", "s3:GetObject", OBJECTS, Colour="red")), "unknown element", id="EVAL: unknown element"),
        pytest.param({"Version": "2012-10-17", "Statement": []}, "non-empty list", id="EVAL: empty Statement"),
        pytest.param({"Version": "2020-01-01", "Statement": [stmt("Allow", "*", "s3:GetObject", OBJECTS)]}, "Version", id="EVAL: bad Version"),
        pytest.param(pol(stmt("Allow", "*", "s3:GetObject", f"arn:aws:s3:::{B}/${{aws:username")), "", id="VARS: unclosed variable is literal"),
        pytest.param(pol(stmt("Allow", "*", "s3:GetObject", f"arn:aws:s3:::{B}/${{a b}}")), "malformed policy variable", id="VARS: malformed variable"),
    ],
)  # fmt: skip
def test_malformed_policies_are_refused(document: dict[str, Any], message: str) -> None:
    if not message:  # accepted: "${" without "}" is plain text
        parse_policy(document)
        return
    with pytest.raises(PolicyError, match=message) as info:
        evaluate(document, req("s3:GetObject"))
    assert isinstance(info.value, UsageError)


def test_bad_json_and_bad_principal_are_usage_errors() -> None:
    with pytest.raises(PolicyError, match="not valid JSON"):
        parse_policy("{nope")
    with pytest.raises(UsageError, match="unknown principal"):
        evaluate(TLS_ONLY, req("s3:GetObject", principal="somebody"))
    with pytest.raises(UsageError, match="s3:GetObject"):
        evaluate(TLS_ONLY, RequestContext(action="GetObject", resource=OBJECTS))


def test_explanation_shapes() -> None:
    anon: EvaluationResult = evaluate(None, req("s3:GetObject", principal="anonymous"))
    assert "anonymous requests need an Allow" in anon.explanation
    identity = evaluate(None, req("s3:GetObject", identity_allows=True))
    assert "identity policy allows it" in identity.explanation and identity.statement_index is None
