"""rt18 F2, F3: the delivery grants and retention rules s3safe merges into a log or inventory bucket are one per
exact trail, prefix or source+destination; enabling one never replaces another's (names alike but for punctuation)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import boto3

from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.ops.inventory import InventoryRequest
from s3safe.ops.inventory import plan_enable as inventory_enable
from s3safe.ops.trail import TrailRequest
from s3safe.ops.trail import plan_enable as trail_enable
from s3safe.storage.connection import Connection
from tests.servers.moto import MotoServer


def _s3(moto: MotoServer) -> Any:
    return boto3.client("s3", endpoint_url=moto.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=moto.access_key, aws_secret_access_key=moto.secret_key)  # fmt: skip


def _statements(s3: Any, bucket: str) -> list[dict[str, Any]]:
    return list(json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"])["Statement"])


def _apply(plan: Any) -> None:
    assert all(r.ok for r in plan.results), plan.notes


def test_trails_named_alike_and_prefixes_alike_keep_their_own_grants_and_rules(moto: MotoServer, moto_conn: Connection) -> None:
    s3, tag = _s3(moto), uuid.uuid4().hex[:8]
    a, b, logs = f"gr-a-{tag}", f"gr-b-{tag}", f"gr-logs-{tag}"
    for bucket in (a, b):
        s3.create_bucket(Bucket=bucket)
    _apply(trail_enable(moto_conn, S3Url(a), TrailRequest(S3Url(logs, "x/y/"), 30, f"my-trail{tag}"), gate=SafetyGate()))
    _apply(trail_enable(moto_conn, S3Url(b), TrailRequest(S3Url(logs, "x-y/"), 60, f"mytrail{tag}"), gate=SafetyGate()))
    sources = sorted(st["Condition"]["StringEquals"]["aws:SourceArn"].rsplit("/", 1)[1] for st in _statements(s3, logs))
    assert sources == sorted([f"my-trail{tag}"] * 2 + [f"mytrail{tag}"] * 2)  # acl check + write for each trail
    rules = {r["Filter"]["Prefix"]: r["Expiration"]["Days"] for r in s3.get_bucket_lifecycle_configuration(Bucket=logs)["Rules"]}
    assert rules == {"x/y/AWSLogs/": 30, "x-y/AWSLogs/": 60}


def test_a_second_inventory_and_a_look_alike_source_keep_the_first_grant(moto: MotoServer, moto_conn: Connection) -> None:
    s3, tag = _s3(moto), uuid.uuid4().hex[:8]
    lake, look_alike, dest = f"my-lake-{tag}", f"mylake-{tag}", f"inv-dest-{tag}"
    for bucket in (lake, look_alike):
        s3.create_bucket(Bucket=bucket)
    dest_url = S3Url(dest, "inv/")
    _apply(inventory_enable(moto_conn, S3Url(lake), InventoryRequest(dest_url), gate=SafetyGate()))
    _apply(inventory_enable(moto_conn, S3Url(lake), InventoryRequest(S3Url(dest, "inv2/"), config_id="second"), gate=SafetyGate()))
    _apply(inventory_enable(moto_conn, S3Url(look_alike), InventoryRequest(dest_url), gate=SafetyGate()))
    grants = sorted((st["Condition"]["ArnLike"]["aws:SourceArn"], st["Resource"]) for st in _statements(s3, dest))
    assert grants == sorted([(f"arn:aws:s3:::{lake}", f"arn:aws:s3:::{dest}/inv/*"), (f"arn:aws:s3:::{lake}", f"arn:aws:s3:::{dest}/inv2/*"),
                             (f"arn:aws:s3:::{look_alike}", f"arn:aws:s3:::{dest}/inv/*")])  # fmt: skip
    again = inventory_enable(moto_conn, S3Url(lake), InventoryRequest(dest_url), gate=SafetyGate())
    assert [s.name for s in again.steps] == []  # idempotent: the same grant is found, not added twice


def test_the_grant_and_rule_of_the_earlier_naming_are_replaced_not_doubled(moto: MotoServer, moto_conn: Connection) -> None:
    s3, tag = _s3(moto), uuid.uuid4().hex[:8]
    a, logs, trail = f"gr-old-{tag}", f"gr-oldlogs-{tag}", f"old-trail{tag}"
    s3.create_bucket(Bucket=a)
    _apply(trail_enable(moto_conn, S3Url(a), TrailRequest(S3Url(logs, "ct/"), 30, trail), gate=SafetyGate()))
    statements = _statements(s3, logs)
    for st in statements:  # as an earlier s3safe named them: punctuation dropped, no hash
        st["Sid"] = st["Sid"][: -len("00000000")].replace(tag, "")
    s3.put_bucket_policy(Bucket=logs, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    [rule] = s3.get_bucket_lifecycle_configuration(Bucket=logs)["Rules"]
    rule["ID"] = "s3safe-log-retention-ct-AWSLogs"
    s3.put_bucket_lifecycle_configuration(Bucket=logs, LifecycleConfiguration={"Rules": [rule]})
    boto3.client("cloudtrail", endpoint_url=moto.endpoint_url, region_name="us-east-1", aws_access_key_id=moto.access_key,
                 aws_secret_access_key=moto.secret_key).delete_trail(Name=trail)  # fmt: skip
    _apply(trail_enable(moto_conn, S3Url(a), TrailRequest(S3Url(logs, "ct/"), 60, trail), gate=SafetyGate()))
    assert len(_statements(s3, logs)) == 2
    assert [r["Expiration"]["Days"] for r in s3.get_bucket_lifecycle_configuration(Bucket=logs)["Rules"]] == [60]
