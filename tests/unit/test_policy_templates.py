"""Policy templates: the FAQ statements, merge/remove/diff, canonical JSON, validation and lock-out."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3safe.core.errors import UsageError
from s3safe.security.policy_eval import evaluate, s3_request
from s3safe.security.policy_summary import summarize_policy, summarize_statement
from s3safe.security.policy_templates import (
    SID_PREFIX,
    PolicyValidationError,
    TemplateOptions,
    bucket_resources,
    build_statements,
    diff,
    dump_policy,
    ip_restrictions,
    merge,
    normalize_cidr,
    policy_problems,
    private_acl_only,
    remove,
    require_sse,
    require_tls,
    validate,
    would_lock_out,
)

B = "amzn-s3-demo-bucket"
ALICE = "arn:aws:iam::111122223333:user/alice"
FAQ_OPTIONS = TemplateOptions(
    private_acl_only=True,
    require_sse=(),
    require_tls=True,
    allow_ips=("192.168.143.0/24",),
    deny_ips=("192.168.143.188/32",),
)
UNRELATED = {
    "Sid": "AllowPartnerRead",
    "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
    "Action": "s3:GetObject",
    "Resource": f"arn:aws:s3:::{B}/shared/*",
}
NO_SID = {
    "Effect": "Allow",
    "Principal": {"Service": "logging.s3.amazonaws.com"},
    "Action": "s3:PutObject",
    "Resource": f"arn:aws:s3:::{B}/logs/*",
}


def faq_statements() -> list[dict[str, Any]]:
    return build_statements(B, FAQ_OPTIONS)


def existing_policy() -> dict[str, Any]:
    return {"Version": "2012-10-17", "Id": "Partner", "Statement": [UNRELATED, NO_SID]}


# ------------------------------------------------------------------------------------------ templates


def test_faq_options_build_the_faq_statements() -> None:
    statements = faq_statements()
    assert [s["Sid"] for s in statements] == [
        "S3SafeDenyInsecureTransport",
        "S3SafeDenyNonPrivateAcl",
        "S3SafeDenyUnapprovedSse",
        "S3SafeDenyOutsideAllowedIps",
        "S3SafeDenyBlockedIps",
    ]
    for s in statements:
        assert s["Sid"].startswith(SID_PREFIX)
        assert s["Effect"] == "Deny" and s["Principal"] == "*"
    by_sid = {s["Sid"]: s for s in statements}
    assert by_sid["S3SafeDenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert by_sid["S3SafeDenyNonPrivateAcl"]["Condition"] == {
        "StringNotEquals": {"s3:x-amz-acl": "private"},
        "Null": {"s3:x-amz-acl": "false"},
    }
    assert by_sid["S3SafeDenyUnapprovedSse"]["Condition"]["StringNotEquals"] == {
        "s3:x-amz-server-side-encryption": ["AES256", "aws:kms"]
    }
    assert by_sid["S3SafeDenyOutsideAllowedIps"]["Condition"] == {"NotIpAddress": {"aws:SourceIp": "192.168.143.0/24"}}
    assert by_sid["S3SafeDenyBlockedIps"]["Condition"] == {"IpAddress": {"aws:SourceIp": "192.168.143.188/32"}}
    assert by_sid["S3SafeDenyInsecureTransport"]["Resource"] == bucket_resources(B)


def test_no_options_no_statements() -> None:
    assert build_statements(B, TemplateOptions()) == []


def test_sse_algorithm_choice_and_strict_mode() -> None:
    only_kms = require_sse(B, ["aws:kms"])
    assert only_kms[0]["Condition"]["StringNotEquals"] == {"s3:x-amz-server-side-encryption": "aws:kms"}
    assert len(only_kms) == 1
    strict = require_sse(B, strict=True)
    assert [s["Sid"] for s in strict] == ["S3SafeDenyUnapprovedSse", "S3SafeDenyMissingSse"]
    assert strict[1]["Condition"] == {"Null": {"s3:x-amz-server-side-encryption": "true"}}
    policy = merge(None, require_sse(B, ["aws:kms"], kms_key_arn="arn:aws:kms:us-east-1:111122223333:key/abc"))
    other_key = s3_request(
        "s3:PutObject", B, "k", principal=ALICE, sse="aws:kms", sse_kms_key_id="arn:aws:kms:us-east-1:111122223333:key/zzz"
    )
    assert evaluate(policy, other_key).sid == "S3SafeDenyOtherKmsKey"
    assert evaluate(policy, s3_request("s3:PutObject", B, "k", principal=ALICE, sse="aws:kms")).allowed
    assert evaluate(policy, s3_request("s3:PutObject", B, "k", principal=ALICE, sse="AES256")).sid == "S3SafeDenyUnapprovedSse"


@pytest.mark.parametrize(
    "build",
    [
        lambda: require_sse(B, ["DES"]),
        lambda: require_sse(B, kms_key_arn="my-key"),
        lambda: private_acl_only(B, allowed_acls=["secret"]),
        lambda: private_acl_only(B, allowed_acls=[]),
        lambda: require_tls(B, min_tls_version="1.0"),
        lambda: ip_restrictions(B, allow=["192.168.143.5/24"]),
        lambda: ip_restrictions(B, deny=["not-an-ip"]),
        lambda: bucket_resources("bad/name"),
    ],
)
def test_bad_template_arguments_are_usage_errors(build: Any) -> None:
    with pytest.raises(UsageError):
        build()


def test_min_tls_version_statement() -> None:
    policy = merge(None, require_tls(B, min_tls_version="1.2"))
    old = s3_request("s3:GetObject", B, "k", principal=ALICE, extra={"s3:TlsVersion": "1.1"})
    assert evaluate(policy, old).sid == "S3SafeDenyOldTlsVersions"
    assert evaluate(policy, s3_request("s3:GetObject", B, "k", principal=ALICE, extra={"s3:TlsVersion": "1.3"})).allowed


def test_ip_allow_list_can_exempt_aws_service_principals() -> None:
    policy = merge(None, ip_restrictions(B, allow=["192.168.143.0/24"], exempt_aws_services=True))
    log_delivery = s3_request("s3:PutObject", B, "logs/x", principal="logging.s3.amazonaws.com", source_ip="52.95.0.1")
    assert evaluate(policy, log_delivery).decision == "implicit-deny"  # not denied by the allow-list; needs its own Allow
    anonymous = s3_request("s3:GetObject", B, "k", source_ip="52.95.0.1")
    assert evaluate(policy, anonymous).sid == "S3SafeDenyOutsideAllowedIps"
    user = s3_request("s3:GetObject", B, "k", principal=ALICE, source_ip="52.95.0.1")
    assert evaluate(policy, user).sid == "S3SafeDenyOutsideAllowedIps"
    without = merge(None, ip_restrictions(B, allow=["192.168.143.0/24"]))
    assert evaluate(without, log_delivery).sid == "S3SafeDenyOutsideAllowedIps"


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("192.168.143.188", "192.168.143.188/32"),
        (" 192.168.143.0/24 ", "192.168.143.0/24"),
        ("2001:DB8:1234:5678::/64", "2001:db8:1234:5678::/64"),
        ("2001:db8::1", "2001:db8::1/128"),
    ],
)
def test_normalize_cidr(given: str, expected: str) -> None:
    assert normalize_cidr(given) == expected


def test_cidr_with_host_bits_gets_a_hint() -> None:
    with pytest.raises(UsageError) as info:
        normalize_cidr("192.168.143.5/24")
    assert info.value.hint == "did you mean 192.168.143.0/24?"


# -------------------------------------------------------------------------------------------- merge


def test_merge_into_no_policy() -> None:
    policy = merge(None, faq_statements())
    assert policy["Version"] == "2012-10-17"
    assert [s["Sid"] for s in policy["Statement"]] == [s["Sid"] for s in faq_statements()]
    validate(policy, B)


def test_applying_twice_is_byte_identical() -> None:
    once = dump_policy(merge(existing_policy(), faq_statements()))
    twice = dump_policy(merge(json.loads(once), faq_statements()))
    assert once == twice
    assert diff(json.loads(once), json.loads(twice)) == []


def test_unrelated_statements_survive_in_order() -> None:
    policy = merge(existing_policy(), faq_statements())
    assert policy["Id"] == "Partner"
    assert policy["Statement"][0] == UNRELATED
    assert policy["Statement"][1] == NO_SID
    assert len(policy["Statement"]) == 2 + len(faq_statements())


def test_changed_options_replace_in_place() -> None:
    first = merge(existing_policy(), faq_statements())
    first["Statement"].append({**UNRELATED, "Sid": "Later"})
    narrower = build_statements(B, TemplateOptions(allow_ips=("192.168.143.0/25",)))
    second = merge(first, narrower)
    sids = [s.get("Sid") for s in second["Statement"]]
    assert sids == [s.get("Sid") for s in first["Statement"]]  # same positions
    allow = next(s for s in second["Statement"] if s.get("Sid") == "S3SafeDenyOutsideAllowedIps")
    assert allow["Condition"] == {"NotIpAddress": {"aws:SourceIp": "192.168.143.0/25"}}


def test_merge_drops_later_duplicates_of_a_replaced_sid() -> None:
    tls = require_tls(B)[0]
    existing = {
        "Version": "2012-10-17",
        "Statement": [{**tls, "Action": "s3:GetObject"}, UNRELATED, {**tls, "Action": "s3:PutObject"}],
    }
    merged = merge(existing, [tls])
    assert merged["Statement"] == [tls, UNRELATED]


def test_merge_accepts_json_text_and_a_single_statement_object() -> None:
    text = json.dumps({"Version": "2012-10-17", "Statement": UNRELATED})
    merged = merge(text, require_tls(B))
    assert merged["Statement"][0] == UNRELATED and len(merged["Statement"]) == 2


def test_merge_does_not_touch_its_inputs() -> None:
    existing = existing_policy()
    snapshot = json.dumps(existing, sort_keys=True)
    new = faq_statements()
    merged = merge(existing, new)
    merged["Statement"][2]["Condition"]["Bool"]["aws:SecureTransport"] = "true"
    assert json.dumps(existing, sort_keys=True) == snapshot
    assert new[0]["Condition"]["Bool"]["aws:SecureTransport"] == "false"


def test_merge_refuses_statements_without_or_with_repeated_sids() -> None:
    with pytest.raises(UsageError, match="needs a Sid"):
        merge(None, [NO_SID])
    with pytest.raises(UsageError, match="repeat a Sid"):
        merge(None, require_tls(B) * 2)


def test_merge_upgrades_a_legacy_version_only_when_safe() -> None:
    legacy = {"Version": "2008-10-17", "Statement": [UNRELATED]}
    assert merge(legacy, require_tls(B))["Version"] == "2012-10-17"
    with_literal = {"Version": "2008-10-17", "Statement": [{**UNRELATED, "Resource": f"arn:aws:s3:::{B}/${{literal}}"}]}
    kept = merge(with_literal, require_tls(B))
    assert kept["Version"] == "2008-10-17"
    assert any("Version" in p for p in policy_problems(kept, B))


# ---------------------------------------------------------------------------------- remove and diff


def test_remove_by_sid_and_all_s3safe() -> None:
    policy = merge(existing_policy(), faq_statements())
    one = remove(policy, ["S3SafeDenyBlockedIps"])
    assert one is not None
    assert "S3SafeDenyBlockedIps" not in [s.get("Sid") for s in one["Statement"]]
    assert len(one["Statement"]) == len(policy["Statement"]) - 1
    mine = remove(policy, all_s3safe=True)
    assert mine is not None and mine["Statement"] == [UNRELATED, NO_SID]
    assert remove(policy, ["NoSuchSid"]) == policy  # nothing to remove: unchanged
    assert remove(mine, all_s3safe=True) == mine  # idempotent


def test_removing_every_statement_means_delete_the_policy() -> None:
    assert remove(merge(None, faq_statements()), all_s3safe=True) is None
    assert remove(None, ["X"]) is None


def test_remove_needs_a_target() -> None:
    with pytest.raises(UsageError, match="--sid"):
        remove(existing_policy())


def test_diff_shows_added_statements() -> None:
    old = existing_policy()
    new = merge(old, require_tls(B))
    lines = diff(old, new)
    assert lines[0] == "--- current policy" and lines[1] == "+++ proposed policy"
    added = [line for line in lines if line.startswith("+") and not line.startswith("+++")]
    assert any('"Sid": "S3SafeDenyInsecureTransport"' in line for line in added)
    assert not any(line.startswith("-") and not line.startswith("---") and "AllowPartnerRead" in line for line in lines)
    from_nothing = diff(None, new)
    assert all(line.startswith(("+", "@", "-")) for line in from_nothing)
    assert diff(new, new) == []


# ------------------------------------------------------------------------------------- canonical dump


def test_dump_is_independent_of_key_order() -> None:
    policy = merge(existing_policy(), faq_statements())
    shuffled = json.loads(json.dumps(policy))
    rng = random.Random(7)

    def shuffle(value: Any) -> Any:
        if isinstance(value, dict):
            items = list(value.items())
            rng.shuffle(items)
            return {k: shuffle(v) for k, v in items}
        if isinstance(value, list):
            return [shuffle(v) for v in value]
        return value

    assert dump_policy(shuffle(shuffled)) == dump_policy(policy)
    text = dump_policy(policy)
    assert text.endswith("}\n") and text.index('"Version"') < text.index('"Id"') < text.index('"Statement"')
    first = json.loads(text)["Statement"][2]
    assert list(first) == ["Sid", "Effect", "Principal", "Action", "Resource", "Condition"]


# -------------------------------------------------------------------------------------- validation


def test_faq_policy_is_valid() -> None:
    policy = merge(existing_policy(), faq_statements())
    assert policy_problems(policy, B) == []
    validate(dump_policy(policy), B)


def test_validation_collects_every_problem() -> None:
    policy = {
        "Version": "2008-10-17",
        "Statement": [
            {"Sid": "Dup", "Effect": "Allow", "Principal": "*", "Action": "ec2:RunInstances", "Resource": f"arn:aws:s3:::{B}/*"},
            {
                "Sid": "Dup",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::other-bucket/*", "*"],
            },
            {
                "Sid": "Ip",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": f"arn:aws:s3:::{B}",
                "Condition": {"NotIpAddress": {"aws:SourceIp": ["192.168.143.5/24", "10.0.0.0/8"]}},
            },
        ],
    }
    with pytest.raises(PolicyValidationError) as info:
        validate(policy, B)
    problems = info.value.problems
    assert isinstance(info.value, UsageError)
    text = "\n".join(problems)
    assert 'Version must be "2012-10-17"' in text
    assert "'ec2:RunInstances' is not an S3 action" in text
    assert "Sid 'Dup' is used twice" in text
    assert "'arn:aws:s3:::other-bucket/*' is outside bucket" in text
    assert "'*' is outside bucket" in text
    assert "host bits set" in text
    assert len(problems) == 6


@pytest.mark.parametrize(
    ("document", "needle"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "JSON object"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{B}/*", "Condition": {"StringEqualz": {"k": "v"}}}]}, "unknown condition operator"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{B}/*", "Condition": {"IpAddress": {"aws:SourceIp": "999.0.0.0/8"}}}]}, "not an IPv4"),
        ({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{B}/*"}]}, "Principal"),
        ({"Version": "2012-10-17", "Statement": [{"Sid": "Big", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": [f"arn:aws:s3:::{B}/{i:05d}/*" for i in range(900)]}]}, "at most 20480"),
    ],
)  # fmt: skip
def test_validation_problems(document: Any, needle: str) -> None:
    problems = policy_problems(document, B)
    assert any(needle in p for p in problems), problems


def test_resources_in_other_partitions_and_the_bucket_itself_are_inside() -> None:
    statement: dict[str, Any] = {"Effect": "Deny", "Principal": "*", "Action": "s3:*"}
    policy = {
        "Version": "2012-10-17",
        "Statement": [{**statement, "Resource": [f"arn:aws-cn:s3:::{B}", f"arn:aws:s3:::{B}/a/b"]}],
    }
    assert policy_problems(policy, B) == []
    lookalike = {"Version": "2012-10-17", "Statement": [{**statement, "Resource": f"arn:aws:s3:::{B}-backup/*"}]}
    assert policy_problems(lookalike, B)


# ----------------------------------------------------------------------------------------- lock-out


def test_allow_list_excluding_the_caller_would_lock_out() -> None:
    policy = merge(None, faq_statements())
    message = would_lock_out(policy, "203.0.113.9", ALICE)
    assert message is not None
    assert "203.0.113.9" in message and "s3:PutBucketPolicy" in message and "root user" in message
    assert "S3SafeDenyOutsideAllowedIps" in message


def test_caller_inside_the_allow_list_is_fine() -> None:
    assert would_lock_out(merge(None, faq_statements()), "192.168.143.5", ALICE) is None


def test_caller_on_the_deny_list_would_lock_out() -> None:
    message = would_lock_out(dump_policy(merge(None, faq_statements())), "192.168.143.188", ALICE, bucket=B)
    assert message is not None and "S3SafeDenyBlockedIps" in message


def test_unknown_caller_address_counts_as_outside_the_allow_list() -> None:
    message = would_lock_out(merge(None, faq_statements()), None, ALICE)
    assert message is not None and "unknown address" in message


def test_policies_without_ip_rules_do_not_lock_out() -> None:
    policy = merge(
        existing_policy(), build_statements(B, TemplateOptions(private_acl_only=True, require_sse=(), require_tls=True))
    )
    assert would_lock_out(policy, None, ALICE) is None
    assert would_lock_out(merge(None, require_sse(B, strict=True)), "203.0.113.9", ALICE) is None  # s3safe sends AES256


def test_lock_out_of_data_only_does_not_mention_the_root_user() -> None:
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "NoReads", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{B}/*"}
        ],
    }
    message = would_lock_out(policy, "203.0.113.9", ALICE)
    assert message is not None and "s3:GetObject" in message and "root" not in message


def test_lock_out_input_errors() -> None:
    assert would_lock_out("", "203.0.113.9", ALICE) is None  # no policy, no lock-out
    with pytest.raises(UsageError, match="not valid JSON"):
        would_lock_out("{oops", "203.0.113.9", ALICE)


def test_lock_out_needs_to_know_the_bucket() -> None:
    with pytest.raises(UsageError, match="which bucket"):
        would_lock_out(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "*"}]},
            None,
            ALICE,
        )


# ------------------------------------------------------------------------------------------ summary


def test_plain_language_summary() -> None:
    lines = summarize_policy(merge(existing_policy(), faq_statements()))
    assert lines[0] == "AllowPartnerRead: Allow arn:aws:iam::444455556666:root s3:GetObject on amzn-s3-demo-bucket/shared/*"
    assert lines[1].startswith("Allow service logging.s3.amazonaws.com s3:PutObject")
    assert lines[2] == (
        "S3SafeDenyInsecureTransport: Deny everyone s3:* on amzn-s3-demo-bucket, amzn-s3-demo-bucket/* when aws:SecureTransport is false"
    )
    assert "s3:x-amz-acl is not private and s3:x-amz-acl is present" in lines[3]
    assert "s3:x-amz-server-side-encryption is none of AES256, aws:kms" in lines[4]
    assert "aws:SourceIp is not in 192.168.143.0/24" in lines[5]
    assert "aws:SourceIp is in 192.168.143.188/32" in lines[6]
    odd = summarize_statement(
        {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": ALICE},
            "NotAction": "s3:GetObject",
            "NotResource": "*",
            "Condition": {"ForAnyValue:StringLikeIfExists": {"aws:TagKeys": ["a*", "b*"]}},
        }
    )
    assert (
        odd
        == f"Deny everyone except {ALICE} every action except s3:GetObject on everything except * when any value of aws:TagKeys matches a* or b* (or is absent)"
    )


# ---------------------------------------------------------------------------------------- properties

_SIDS = st.sampled_from(["S3SafeA", "S3SafeB", "S3SafeC", "Partner", "Logs", "X1", "X2"])
_ACTIONS = st.sampled_from(["s3:GetObject", "s3:PutObject", "s3:*", ["s3:GetObject", "s3:ListBucket"]])
_RESOURCES = st.sampled_from([f"arn:aws:s3:::{B}", f"arn:aws:s3:::{B}/*", [f"arn:aws:s3:::{B}", f"arn:aws:s3:::{B}/*"]])
_CONDITIONS = st.sampled_from(
    [
        None,
        {"Bool": {"aws:SecureTransport": "false"}},
        {"NotIpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]}, "Null": {"aws:SourceIp": "false"}},
        {"StringNotEquals": {"s3:x-amz-acl": "private"}},
    ]
)


@st.composite
def statements(draw: st.DrawFn, sid: st.SearchStrategy[str | None]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "Effect": draw(st.sampled_from(["Allow", "Deny"])),
        "Principal": draw(st.sampled_from(["*", {"AWS": "111122223333"}, {"Service": "logging.s3.amazonaws.com"}])),
        "Action": draw(_ACTIONS),
        "Resource": draw(_RESOURCES),
    }
    condition = draw(_CONDITIONS)
    if condition is not None:
        out["Condition"] = condition
    chosen = draw(sid)
    if chosen is not None:
        out["Sid"] = chosen
    keys = list(out)
    draw(st.randoms()).shuffle(keys)  # any element order on input
    return {k: out[k] for k in keys}


@st.composite
def new_statement_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    sids = draw(st.lists(_SIDS, min_size=1, max_size=5, unique=True))
    return [{**draw(statements(st.none())), "Sid": sid} for sid in sids]


existing_policies = st.one_of(
    st.none(),
    st.builds(
        lambda s: {"Version": "2012-10-17", "Statement": s},
        st.lists(statements(st.one_of(st.none(), _SIDS)), min_size=1, max_size=6),
    ),
)


@settings(max_examples=150, deadline=None)
@given(existing=existing_policies, new=new_statement_sets())
def test_merge_is_idempotent(existing: dict[str, Any] | None, new: list[dict[str, Any]]) -> None:
    once = merge(existing, new)
    twice = merge(once, new)
    assert dump_policy(twice) == dump_policy(once)
    assert dump_policy(merge(json.loads(dump_policy(once)), new)) == dump_policy(once)
    sids = [s.get("Sid") for s in once["Statement"]]
    for statement in new:
        assert sids.count(statement["Sid"]) == 1
    replaced = {s["Sid"] for s in new}
    before = [s for s in (existing or {"Statement": []})["Statement"] if s.get("Sid") not in replaced]
    after = [s for s in once["Statement"] if s.get("Sid") not in replaced]
    assert after == before  # unrelated statements: all kept, same order


@settings(max_examples=150, deadline=None)
@given(existing=existing_policies, new=new_statement_sets())
def test_canonical_dump_is_stable(existing: dict[str, Any] | None, new: list[dict[str, Any]]) -> None:
    policy = merge(existing, new)
    text = dump_policy(policy)
    assert dump_policy(json.loads(text)) == text
    reordered = {k: policy[k] for k in reversed(list(policy))}
    reordered["Statement"] = [{k: s[k] for k in reversed(list(s))} for s in policy["Statement"]]
    assert dump_policy(reordered) == text
    assert json.loads(text) == json.loads(json.dumps(policy))  # canonical form changes order only


@settings(max_examples=100, deadline=None)
@given(existing=existing_policies, new=new_statement_sets())
def test_remove_after_merge_restores_unrelated_statements(existing: dict[str, Any] | None, new: list[dict[str, Any]]) -> None:
    merged = merge(existing, new)
    cleaned = remove(merged, [s["Sid"] for s in new])
    replaced = {s["Sid"] for s in new}
    expected = [s for s in (existing or {"Statement": []})["Statement"] if s.get("Sid") not in replaced]
    assert (cleaned["Statement"] if cleaned else []) == expected
