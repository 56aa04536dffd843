"""`audit --inventory`: the object checks run on an S3 Inventory report instead of one request per object.

The newest report of the bucket's inventory configuration is found in its destination
(destination-prefix/source-bucket/config-ID/YYYY-MM-DDTHH-MMZ/manifest.json), its data files are read
through storage/ into a private temporary folder (each checked against the MD5 the manifest gives), and
DuckDB answers the checks in one pass. The findings are the ones `audit --objects` makes (same ids, same
fix), with the report's age in a note: an inventory is eventually consistent.

Formats (S3 User Guide, "Amazon S3 Inventory list" and "Locating your inventory list"): CSV data files are
gzipped, unquoted-header-less rows in the manifest's fileSchema order, with URL-encoded keys; Parquet files
carry snake_case columns (key, encryption_status, object_access_control_list …); the ACL field is
base64-encoded JSON ({"version", "status", "grants": [{"type": "Group", "uri", "permission"} …]}).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from s3safe.audit.checks.objects import OBJECT_ACL_PUBLIC, OBJECT_NOT_ENCRYPTED, OBJECT_SSE_C
from s3safe.audit.model import Finding, ObjectScan, Severity, shell_url
from s3safe.core.errors import IntegrityError, NotFoundError, UsageError
from s3safe.core.locations import S3Url
from s3safe.storage.connection import Connection

MANIFEST_LIMIT = 64 * 1024 * 1024
HEAD_LIMIT = 1000  # object-not-encrypted candidates confirmed by HEAD (the client-side marker is not in inventories)
PUBLIC_URIS = {
    "http://acs.amazonaws.com/groups/global/AllUsers": "AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers": "AuthenticatedUsers",
}
WRITE_PERMISSIONS = ("WRITE", "WRITE_ACP", "FULL_CONTROL")
CLOCK_SKEW = timedelta(hours=1)  # a report stamped later than now + this is from the future
_REPORT_FOLDER = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}-\d{2}Z/$")
_PARQUET_FIELD = re.compile(r"\b(?:required|optional)\s+\w+\s+(\w+)")


@dataclass(frozen=True)
class InventoryManifest:
    source_bucket: str
    destination_bucket: str
    key: str  # of manifest.json
    file_format: str  # "CSV" | "Parquet" | "ORC"
    columns: tuple[str, ...]  # snake_case, as the Parquet files name them
    files: tuple[tuple[str, str | None], ...]  # (key, MD5 hex or None)
    created: datetime

    def age_hours(self, now: datetime | None = None) -> float:
        return ((now or datetime.now(UTC)) - self.created).total_seconds() / 3600


@dataclass
class InventoryScan:
    """What the inventory said about one bucket's objects."""

    manifest: InventoryManifest
    scan: ObjectScan
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)


def snake(name: str) -> str:
    """CSV fileSchema names ('ObjectAccessControlList', 'ETag') as the Parquet columns name them."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", name.strip())
    return spaced.lower()


def _columns(file_format: str, schema: str) -> tuple[str, ...]:
    if file_format == "CSV":
        return tuple(snake(part) for part in schema.split(",") if part.strip())
    return tuple(_PARQUET_FIELD.findall(schema))


def parse_manifest(data: bytes, *, bucket: str, key: str) -> InventoryManifest:
    """manifest.json as AWS writes it; anything else is refused with the manifest's name."""
    where = f"s3://{bucket}/{key}"
    try:
        doc = json.loads(data)
        source = str(doc["sourceBucket"])
        destination = str(doc["destinationBucket"]).removeprefix("arn:aws:s3:::")
        file_format = str(doc["fileFormat"])
        created = datetime.fromtimestamp(int(doc["creationTimestamp"]) / 1000, UTC)
        files = tuple((str(f["key"]), f.get("MD5checksum")) for f in doc["files"])
        columns = _columns(file_format, str(doc.get("fileSchema", "")))
    except (ValueError, KeyError, TypeError, OverflowError) as exc:
        raise UsageError(f"{where} is not an S3 Inventory manifest ({type(exc).__name__}: {exc})") from None
    if file_format not in ("CSV", "Parquet", "ORC"):
        raise UsageError(f"{where}: unknown inventory format {file_format!r}")
    return InventoryManifest(source, destination or bucket, key, file_format, columns, files, created)


def _destination(config: dict[str, Any]) -> tuple[str, str]:
    dest = config.get("Destination", {}).get("S3BucketDestination", {})
    bucket = str(dest.get("Bucket", "")).removeprefix("arn:aws:s3:::")
    prefix = str(dest.get("Prefix", "") or "").strip("/")
    return bucket, prefix


def _newest_manifest(conn: Connection, dest: str, base: str, *, future: list[str]) -> str | None:
    from s3safe.storage.reports import child_prefixes, keys_under

    folders = sorted((p for p in child_prefixes(conn, dest, base) if _REPORT_FOLDER.search(p)), reverse=True)
    latest = f"{datetime.now(UTC) + CLOCK_SKEW:%Y-%m-%dT%H-%MZ}/"
    future += [f for f in folders if f.rsplit("/", 2)[-2] + "/" > latest]
    for folder in (f for f in folders if f.rsplit("/", 2)[-2] + "/" <= latest):  # a report from the future hid newer ones
        if any(k == folder + "manifest.json" for k in keys_under(conn, dest, folder + "manifest.")):
            return folder + "manifest.json"  # a report still being written has no manifest yet
    return None


def locate_manifest(conn: Connection, bucket: str, *, config_id: str | None = None, notes: list[str] | None = None) -> tuple[str, str]:
    """(destination bucket, manifest key) of the newest report of the bucket's inventory configurations;
    reports dated in the future are passed over (noted): they would win as newest and hide the real ones."""
    from s3safe.storage.inventory import list_inventories

    configs = [c for c in list_inventories(conn, bucket) if config_id is None or c.get("Id") == config_id]
    if not configs:
        which = f" named {config_id!r}" if config_id else ""
        raise NotFoundError(f"s3://{bucket} has no inventory configuration{which}",
                            hint=f"set one up with 's3safe inventory enable s3://{bucket} --destination s3://BUCKET/prefix/' "
                                 "and wait for the first report (up to 48 hours)")  # fmt: skip
    found: list[tuple[str, str, str]] = []
    future: list[str] = []
    for config in configs:
        dest, prefix = _destination(config)
        base = "/".join(p for p in (prefix, bucket, str(config.get("Id", ""))) if p) + "/"
        key = _newest_manifest(conn, dest, base, future=future)
        if key is not None:
            found.append((key.rsplit("/", 2)[-2], dest, key))
    if future and notes is not None:
        notes.append(f"{len(future)} inventory report folder(s) dated in the future were passed over (first: {future[0]}): "
                     "S3 never writes those; someone with write access to the destination did")  # fmt: skip
    if not found:
        raise NotFoundError(f"no inventory report of s3://{bucket} has been delivered yet",
                            hint="S3 delivers the first report within 48 hours of 'inventory enable'; "
                                 "or name one with --inventory-manifest s3://…/manifest.json")  # fmt: skip
    _, dest, key = max(found)
    return dest, key


def read_manifest(conn: Connection, bucket: str, *, manifest: S3Url | None, config_id: str | None,
                  notes: list[str] | None = None) -> InventoryManifest:  # fmt: skip
    from s3safe.storage.reports import read_small

    if manifest is not None:
        dest, key = manifest.bucket, manifest.key
    else:
        dest, key = locate_manifest(conn, bucket, config_id=config_id, notes=notes)
    data = read_small(conn, dest, key, limit=MANIFEST_LIMIT)
    parsed = parse_manifest(data, bucket=dest, key=key)
    if parsed.source_bucket != bucket:
        raise UsageError(f"s3://{dest}/{key} is the inventory of s3://{parsed.source_bucket}, not of s3://{bucket}")
    _check_manifest(conn, parsed, data, dest=dest, notes=notes)
    return parsed


def _check_manifest(conn: Connection, parsed: InventoryManifest, data: bytes, *, dest: str, notes: list[str] | None) -> None:
    """A manifest is trusted only as far as S3 could have written it: its data in the bucket it was read from,
    its creation time not in the future, its bytes matching manifest.checksum."""
    from s3safe.storage.reports import read_small

    where = f"s3://{dest}/{parsed.key}"
    if parsed.destination_bucket != dest:
        raise IntegrityError(f"{where} sends its data reads to s3://{parsed.destination_bucket}, not the bucket it is in",
                             hint="S3 writes a report's data beside its manifest: this manifest was altered")  # fmt: skip
    if parsed.created > datetime.now(UTC) + CLOCK_SKEW:
        raise IntegrityError(f"{where} says it was created {parsed.created:%Y-%m-%d %H:%M} UTC, in the future",
                             hint="S3 never writes such a manifest; pick another with --inventory-manifest")  # fmt: skip
    checksum_key = parsed.key.removesuffix(".json") + ".checksum"
    try:
        stated = read_small(conn, dest, checksum_key, limit=1024).decode("ascii", "replace").strip().lower()
    except NotFoundError:
        if notes is not None:
            notes.append(f"s3://{dest}/{checksum_key} is missing: the manifest's own MD5 could not be checked")
        return
    if stated != hashlib.md5(data, usedforsecurity=False).hexdigest():
        raise IntegrityError(f"{where} does not match the MD5 in its manifest.checksum",
                             hint="the manifest was changed after S3 wrote it")  # fmt: skip


def _download(conn: Connection, manifest: InventoryManifest, folder: Path) -> list[Path]:
    from s3safe.storage.reports import download

    paths = []
    for n, (key, md5) in enumerate(manifest.files):
        # named by position only: a key from the manifest (NUL, '..', a drive letter) never becomes part of a path
        path = folder / f"{n:06d}.{manifest.file_format.lower()}"
        download(conn, manifest.destination_bucket, key, path)
        if md5 and _md5(path) != md5.lower():
            raise IntegrityError(f"s3://{manifest.destination_bucket}/{key} does not match the MD5 its inventory manifest gives",
                                 hint="the report was changed or cut after S3 wrote it; wait for the next one")  # fmt: skip
        paths.append(path)
    return paths


def _md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest()


# ------------------------------------------------------------------------------------------ DuckDB


def _source_sql(file_format: str, columns: tuple[str, ...], paths: list[Path]) -> str:
    files = "[" + ", ".join(_literal(str(p)) for p in paths) + "]"
    if file_format == "Parquet":
        return f"read_parquet({files}, union_by_name = true)"
    if file_format == "CSV":
        if not columns:
            raise UsageError("the CSV inventory's manifest has no fileSchema: its columns cannot be named")
        spec = "{" + ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in columns) + "}"
        return (f"read_csv({files}, header = false, columns = {spec}, compression = 'gzip', quote = '\"', escape = '\"', "
                f"auto_detect = false, strict_mode = false)")  # fmt: skip
    raise UsageError(f"{file_format} inventories cannot be read by s3safe",
                     hint="reconfigure the inventory with 's3safe inventory enable … --format Parquet' (or CSV)")  # fmt: skip


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _flag(column: str, *, missing: str) -> str:
    """A boolean column as 'true'/'false' text (CSV has text, Parquet booleans)."""
    return f"coalesce(lower(CAST({column} AS VARCHAR)), '{missing}')"


def _rows_sql(source: str, present: set[str], *, bucket: str) -> str:
    """Current, non-deleted objects of `bucket`: key, encryption status and the ACL field as stored.

    SQL is assembled from fixed column names and `_literal`-escaped text only (S608 below)."""
    where = [f"bucket = {_literal(bucket)}"] if "bucket" in present else []
    if "is_delete_marker" in present:
        where.append(f"{_flag('is_delete_marker', missing='false')} <> 'true'")
    if "is_latest" in present:
        where.append(f"{_flag('is_latest', missing='true')} <> 'false'")  # the current version is what --objects checks
    acl = "object_access_control_list" if "object_access_control_list" in present else "NULL::VARCHAR"
    enc = "encryption_status" if "encryption_status" in present else "NULL::VARCHAR"
    rows = f"SELECT key, {enc} AS enc, {acl} AS acl_raw FROM {source}"  # noqa: S608
    return rows + (" WHERE " + " AND ".join(where) if where else "")


def _public_grants(acl_json: str | None) -> list[tuple[str, str]] | None:
    """(permission, group) of each public grant; None when the field is not a readable ACL."""
    if acl_json is None:
        return None
    try:
        doc = json.loads(acl_json)
        grants = doc.get("grants") or []
        return [(str(g.get("permission")), PUBLIC_URIS[g["uri"]]) for g in grants if isinstance(g, dict) and g.get("uri") in PUBLIC_URIS]
    except (ValueError, AttributeError, TypeError):
        return None


class _Collector:
    def __init__(self, bucket: str, *, checks: frozenset[str], csv_keys: bool, created: str) -> None:
        self.bucket = bucket
        self.checks = checks
        self.csv_keys = csv_keys
        self.created = created
        self.findings: list[Finding] = []
        self.counts = {"scanned": 0, "public": 0, "unencrypted": 0, "sse_c": 0, "errors": 0}

    def public(self, key: str, grants: list[tuple[str, str]]) -> None:
        self.counts["public"] += 1
        severity = Severity.CRITICAL if any(p in WRITE_PERMISSIONS for p, _ in grants) else Severity.HIGH
        found = "object ACL grants " + ", ".join(f"{p} to {g}" for p, g in grants) + f" (inventory of {self.created})"
        fix = f"s3safe acl set private {shell_url(self.bucket, key)}"
        self.findings.append(OBJECT_ACL_PUBLIC.finding(self.bucket, found, fix=fix, key=key, severity=severity))

    def unencrypted(self, key: str) -> None:
        self.counts["unencrypted"] += 1
        url = shell_url(self.bucket, key)
        fix = f"upload it again, encrypted: s3safe get {url} FILE, then s3safe put FILE {url}"
        found = f"stored without server-side or client-side encryption (inventory of {self.created})"
        self.findings.append(OBJECT_NOT_ENCRYPTED.finding(self.bucket, found, fix=fix, key=key))

    def sse_c(self, key: str) -> None:
        self.counts["sse_c"] += 1
        url = shell_url(self.bucket, key)
        fix = f"re-encrypt under a key S3 manages: s3safe get {url} FILE --sse-c-key-file KEY, then s3safe put FILE {url}"
        self.findings.append(OBJECT_SSE_C.finding(self.bucket, f"encrypted with a customer-provided key (SSE-C) (inventory of {self.created})", fix=fix, key=key))

    def row(self, key: str, enc: str | None, acl_raw: str | None, acl: str | None) -> None:
        key = unquote_plus(key) if self.csv_keys else key
        self.counts["scanned"] += 1
        if OBJECT_ACL_PUBLIC.id in self.checks and acl_raw:
            grants = _public_grants(acl)
            if grants is None:
                self.counts["errors"] += 1
            elif grants:
                self.public(key, grants)
        if enc == "NOT-SSE" and OBJECT_NOT_ENCRYPTED.id in self.checks:
            self.unencrypted(key)
        elif enc == "SSE-C" and OBJECT_SSE_C.id in self.checks:
            self.sse_c(key)


def base64_needles(word: str) -> list[str]:
    """The base64 text `word` becomes inside any base64 string, at each of its 3 alignments (the characters
    that carry only its own bits), so the ACL field can be matched without decoding 10⁸ rows."""
    raw = word.encode()
    needles = []
    for k in range(3):
        encoded = base64.b64encode(b"\0" * k + raw).decode()
        first, last = -(-8 * k // 6), (8 * (k + len(raw)) - 6) // 6
        needles.append(encoded[first : last + 1])
    return needles


def _interesting(query: str) -> str:
    """Only the rows a finding can come from leave DuckDB; the rest are only counted. The ACL field is matched
    as stored (a group's name, plain or in base64 at any alignment): a loose match, as the grants of the few
    rows it lets through are then decoded and read as JSON."""
    words = [uri.rsplit("/", 1)[-1] for uri in PUBLIC_URIS]
    needles = [n for w in words for n in (w, *base64_needles(w))]
    groups = " OR ".join(f"contains(acl_raw, {_literal(n)})" for n in needles)
    decoded = "CASE WHEN starts_with(acl_raw, '{') THEN acl_raw ELSE try(decode(from_base64(acl_raw))) END"
    return (f"SELECT key, enc, acl_raw, {decoded} AS acl FROM ({query}) WHERE enc IN ('NOT-SSE', 'SSE-C') OR {groups} "  # noqa: S608
            "ORDER BY key")  # fmt: skip


def scan_files(bucket: str, file_format: str, columns: tuple[str, ...], paths: list[Path], *, checks: frozenset[str],
               created: str, threads: int = 2, names: Sequence[str] = ()) -> tuple[dict[str, int], list[Finding], set[str]]:  # fmt: skip
    """Run the object checks over local inventory files: (counts, findings, columns present)."""
    import duckdb

    # nothing is fetched: Parquet and CSV readers are built in, and an inventory must not make DuckDB download code
    db = duckdb.connect(config={"threads": max(1, threads), "autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        db.execute("SET enable_progress_bar = false")  # DuckDB would draw one on a terminal, in the middle of our output
        source = _source_sql(file_format, columns, paths)
        present = {str(row[0]) for row in db.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}  # noqa: S608
        if "key" not in present:
            raise UsageError("the inventory report has no key column: not an S3 Inventory report")
        query = _rows_sql(source, present, bucket=bucket)
        collector = _Collector(bucket, checks=checks, csv_keys=file_format == "CSV", created=created)
        total = db.execute(f"SELECT count(*) FROM ({query})").fetchone()  # noqa: S608
        if "bucket" in present:  # a row about another bucket is not this bucket's object, whatever it says
            other = db.execute(f"SELECT count(*) FROM {source} WHERE bucket IS DISTINCT FROM {_literal(bucket)}").fetchone()  # noqa: S608
            collector.counts["other_bucket"] = int(other[0]) if other else 0
        cursor = db.execute(_interesting(query))
        while rows := cursor.fetchmany(10_000):
            for key, enc, acl_raw, acl in rows:
                collector.row(str(key), enc, acl_raw, acl)
    except duckdb.Error as exc:
        reason = str(exc).splitlines()[0]
        for path, name in zip(paths, names, strict=False):  # the file as the user knows it, not our scratch copy
            reason = reason.replace(str(path), name)
        raise UsageError(f"the inventory report of s3://{bucket} could not be read: {reason}") from None
    finally:
        db.close()
    collector.counts["scanned"] = int(total[0]) if total else 0
    return collector.counts, collector.findings, present


def _head_state(conn: Connection, bucket: str, key: str) -> str:
    """What HEAD says of an object the inventory lists without SSE: 'plain', 'client' (s3safe's marker),
    'encrypted' (SSE now), 'gone', or 'error'."""
    from s3safe.audit.objects import _client_encrypted
    from s3safe.core.errors import S3SafeError
    from s3safe.storage.s3 import S3Storage

    try:
        head = S3Storage(conn).head(bucket, key)
    except NotFoundError:
        return "gone"
    except S3SafeError:
        return "error"
    if _client_encrypted(head):
        return "client"
    return "encrypted" if head.sse_algorithm else "plain"


def _confirm_unencrypted(conn: Connection, bucket: str, findings: list[Finding], *, limit: int) -> tuple[list[Finding], dict[str, int]]:
    """HEAD the objects the inventory lists as NOT-SSE (up to `limit`), so that a finding means what it means
    for `audit --objects`: neither SSE nor s3safe's client-side marker, now."""
    from s3safe.core.concurrency import run_bounded

    plain = [f for f in findings if f.check_id == OBJECT_NOT_ENCRYPTED.id and f.key is not None]
    checked = plain[:limit]
    states = dict(zip((f.uid for f in checked), run_bounded(lambda f: _head_state(conn, bucket, str(f.key)), checked,
                                                             threads=max(1, conn.settings.threads)), strict=True))  # fmt: skip
    tally = {name: 0 for name in ("plain", "client", "encrypted", "gone", "error")}
    for state in states.values():
        tally[state] += 1
    tally["unchecked"] = len(plain) - len(checked)
    kept = [f for f in findings if states.get(f.uid, "plain") in ("plain", "error")]
    return kept, tally


def _head_note(tally: dict[str, int]) -> str | None:
    headed = sum(v for k, v in tally.items() if k != "unchecked")
    if not headed and not tally["unchecked"]:
        return None
    note = (f"{headed} object(s) the inventory lists without server-side encryption were checked with HEAD: {tally['plain']} "
            f"still unencrypted, {tally['client']} s3safe client-side encrypted, {tally['encrypted']} encrypted since, "
            f"{tally['gone']} deleted since, {tally['error']} could not be checked (reported)")  # fmt: skip
    if tally["unchecked"]:
        note += f"; {tally['unchecked']} more are reported from the inventory alone (over the {HEAD_LIMIT} HEAD limit)"
    return note


def _needed_columns(checks: frozenset[str]) -> dict[str, str]:
    need = {OBJECT_ACL_PUBLIC.id: "object_access_control_list", OBJECT_NOT_ENCRYPTED.id: "encryption_status",
            OBJECT_SSE_C.id: "encryption_status"}  # fmt: skip
    return {check: column for check, column in need.items() if check in checks}


def scan_inventory(conn: Connection, bucket: str, *, checks: frozenset[str], manifest: S3Url | None = None,
                   config_id: str | None = None, now: Callable[[], datetime] | None = None) -> InventoryScan:  # fmt: skip
    """The object checks of one bucket, answered from its newest inventory report (or the one named)."""
    found: list[str] = []
    report = read_manifest(conn, bucket, manifest=manifest, config_id=config_id, notes=found)
    created = report.created.strftime("%Y-%m-%d %H:%M UTC")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="s3safe-inventory-") as tmp:
        paths = _download(conn, report, Path(tmp))
        counts, findings, present = scan_files(bucket, report.file_format, report.columns, paths, checks=checks,
                                               created=created, threads=min(conn.settings.threads, os.cpu_count() or 2),
                                               names=[f"s3://{report.destination_bucket}/{key}" for key, _ in report.files])  # fmt: skip
    findings, tally = _confirm_unencrypted(conn, bucket, findings, limit=HEAD_LIMIT)
    counts["unencrypted"] -= tally["client"] + tally["encrypted"] + tally["gone"]
    age = report.age_hours((now or (lambda: datetime.now(UTC)))())
    notes = [f"objects read from the inventory report s3://{report.destination_bucket}/{report.key} of {created} "
             f"({age:.1f} hours old, {len(report.files)} data file(s), {time.monotonic() - started:.1f} s): an inventory is "
             "eventually consistent; objects changed since are not in it, so HEAD a finding before fixing it by hand"]  # fmt: skip
    notes += found
    for check, column in _needed_columns(checks).items():
        if column not in present:
            notes.append(f"{check} not checked: the inventory has no {column} field "
                         f"(add it with 's3safe inventory enable s3://{bucket} …', which asks for every field the audit needs)")  # fmt: skip
    if (head_note := _head_note(tally)) is not None:
        notes.append(head_note)
    if counts["errors"]:
        notes.append(f"{counts['errors']} object(s) had an ACL field s3safe could not read: whether they are public cannot be told")
    if counts.get("other_bucket"):
        notes.append(f"{counts['other_bucket']} row(s) of the report name another bucket than s3://{bucket} and were left out "
                     "(S3 writes only the source bucket's objects: the report was altered)")  # fmt: skip
    scan = ObjectScan(counts["scanned"], counts["public"], counts["unencrypted"], tally["client"], counts["errors"], sampled=False,
                      resumed_after=None, acls_read="object_access_control_list" in present, inventory=True)  # fmt: skip
    return InventoryScan(report, scan, findings, notes)


def iter_public_keys(findings: list[Finding]) -> Iterator[str]:
    for finding in findings:
        if finding.check_id == OBJECT_ACL_PUBLIC.id and finding.key is not None:
            yield finding.key


def acl_field(grants: list[dict[str, str]]) -> str:
    """The ObjectAccessControlList value S3 writes for these grants (tests and the bench generate reports with it)."""
    doc = {"version": "2022-11-10", "status": "AVAILABLE", "grants": grants}
    return base64.b64encode(json.dumps(doc, separators=(",", ":")).encode()).decode()
