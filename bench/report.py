"""Medians, ratios, the issue's targets, and the table in text, markdown and JSON."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from typing import Any

from datagen import GIB, MIB


@dataclass
class RunRecord:
    ok: bool
    problem: str
    wall_s: float
    cpu_s: float
    user_s: float
    sys_s: float
    maxrss_mb: float
    returncode: int
    server_cpu_s: float


@dataclass
class ToolResult:
    tool: str
    status: str = "ok"  # ok | failed | not available | skipped
    reason: str = ""
    command: list[str] = field(default_factory=list)
    runs: list[RunRecord] = field(default_factory=list)

    @property
    def good(self) -> list[RunRecord]:
        return [run for run in self.runs if run.ok]

    def median(self, attr: str) -> float | None:
        values = [getattr(run, attr) for run in self.good]
        return statistics.median(values) if values else None

    def finish(self) -> None:
        """Status from the runs: failed if any measured run failed (the reason of the first failure)."""
        if self.status != "ok":
            return
        bad = [run for run in self.runs if not run.ok]
        if bad:
            self.status = "failed"
            self.reason = f"{len(bad)}/{len(self.runs)} runs failed: {bad[0].problem}"


@dataclass
class ScenarioResult:
    id: str
    title: str
    kind: str  # upload | download | sync
    dataset: str
    files: int
    bytes: int
    tools: dict[str, ToolResult] = field(default_factory=dict)


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def ratio(scenario: ScenarioResult, primary: str, peer: str, attr: str) -> float | None:
    mine, theirs = scenario.tools.get(primary), scenario.tools.get(peer)
    if mine is None or theirs is None:
        return None
    a, b = mine.median(attr), theirs.median(attr)
    return a / b if a is not None and b else None


HEADER = [
    "tool",
    "wall s",
    "CPU s",
    "peak RSS MB",
    "MiB/s",
    "server CPU s",
    "s3safe/peer wall",
    "s3safe/peer CPU",
    "runs ok",
    "note",
]


def rows(scenario: ScenarioResult, primary: str) -> list[list[str]]:
    table = []
    for name, result in scenario.tools.items():
        wall = result.median("wall_s")
        rate = scenario.bytes / MIB / wall if wall else None
        is_me = name == primary
        note = result.reason if result.status != "ok" else ""
        table.append([
            name,
            _fmt(wall), _fmt(result.median("cpu_s")), _fmt(result.median("maxrss_mb"), 0), _fmt(rate, 0),
            _fmt(result.median("server_cpu_s")),
            "—" if is_me else _fmt(ratio(scenario, primary, name, "wall_s")),
            "—" if is_me else _fmt(ratio(scenario, primary, name, "cpu_s")),
            f"{len(result.good)}/{len(result.runs)}" if result.runs else "0/0",
            (result.status + (": " + note if note else "")) if result.status != "ok" else "",
        ])  # fmt: skip
    return table


def text_table(scenarios: list[ScenarioResult], primary: str) -> str:
    out: list[str] = []
    for scenario in scenarios:
        out.append(f"\n{scenario.id}: {scenario.title}")
        body = rows(scenario, primary)
        cells = [HEADER, *body]
        widths = [max(len(row[i]) for row in cells) for i in range(len(HEADER) - 1)]
        for row in cells:
            line = "  ".join(cell.ljust(widths[i]) if i == 0 else cell.rjust(widths[i]) for i, cell in enumerate(row[:-1]))
            out.append(("  " + line + ("  " + row[-1] if row[-1] else "")).rstrip())
    return "\n".join(out)


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_table(scenarios: list[ScenarioResult], primary: str) -> str:
    lines = ["| scenario | " + " | ".join(HEADER) + " |", "|" + " --- |" * (len(HEADER) + 1)]
    for scenario in scenarios:
        for row in rows(scenario, primary):
            lines.append(f"| {scenario.id} | " + " | ".join(_md_cell(cell) for cell in row) + " |")
    return "\n".join(lines)


@dataclass
class Target:
    text: str
    measured: str
    met: bool | None  # None: not measured in this run

    def verdict(self) -> str:
        return {True: "met", False: "NOT met", None: "not measured"}[self.met]


def _find(scenarios: list[ScenarioResult], sid: str) -> ScenarioResult | None:
    return next((s for s in scenarios if s.id == sid), None)


def _ratio_target(scenarios: list[ScenarioResult], sid: str, primary: str, attr: str, limit: float, text: str) -> Target:
    scenario = _find(scenarios, sid)
    if scenario is None:
        return Target(text, f"scenario {sid} not run", None)
    r = ratio(scenario, primary, "s5cmd", attr)
    if r is None:
        return Target(text, "no successful runs of both s3safe and s5cmd", None)
    mine = scenario.tools[primary].median(attr)
    theirs = scenario.tools["s5cmd"].median(attr)
    return Target(text, f"s3safe {mine:.2f} s vs s5cmd {theirs:.2f} s: ratio {r:.2f} (limit {limit:.2f})", r <= limit)


def targets(scenarios: list[ScenarioResult], primary: str, *, sizes_note: str) -> list[Target]:
    found: list[Target] = [
        _ratio_target(scenarios, "up-small", primary, "wall_s", 0.8, f"{sizes_note}small-file upload: s3safe wall ≤ 0.8 × s5cmd"),
        _ratio_target(
            scenarios, "down-small", primary, "wall_s", 0.8, f"{sizes_note}small-file download: s3safe wall ≤ 0.8 × s5cmd"
        ),
        _ratio_target(scenarios, "up-medium", primary, "wall_s", 1.0, f"{sizes_note}medium-file upload: s3safe wall ≤ 1.0 × s5cmd"),
        _ratio_target(
            scenarios, "down-medium", primary, "wall_s", 1.0, f"{sizes_note}medium-file download: s3safe wall ≤ 1.0 × s5cmd"
        ),
    ]
    up_large = _find(scenarios, "up-large")
    text = f"{sizes_note}large-file upload: client CPU-s per GiB ≤ s5cmd's"
    if up_large is None:
        found.append(Target(text, "scenario up-large not run (--no-large)", None))
    else:
        r = ratio(up_large, primary, "s5cmd", "cpu_s")
        if r is None:
            found.append(Target(text, "no successful runs of both s3safe and s5cmd", None))
        else:
            gib = up_large.bytes / GIB
            mine = (up_large.tools[primary].median("cpu_s") or 0) / gib
            theirs = (up_large.tools["s5cmd"].median("cpu_s") or 0) / gib
            found.append(Target(text, f"s3safe {mine:.2f} vs s5cmd {theirs:.2f} CPU-s/GiB: ratio {r:.2f}", r <= 1.0))
    down_large = _find(scenarios, "down-large")
    # rclone serve s3 sends the right bytes for a ranged GET but with status 200, which obstore refuses as
    # non-partial: for s3safe it is a server that streams (the limit there is 0.8 × s5cmd)
    text = f"{sizes_note}large-file download on a server that streams (rclone serve s3): throughput ≥ 0.8 × s5cmd's"
    if down_large is None:
        found.append(Target(text, "scenario down-large not run (--no-large)", None))
    else:
        r = ratio(down_large, primary, "s5cmd", "wall_s")
        if r is None:
            found.append(Target(text, "no successful runs of both s3safe and s5cmd", None))
        else:
            mib = down_large.bytes / MIB
            mine = mib / (down_large.tools[primary].median("wall_s") or 1)
            theirs = mib / (down_large.tools["s5cmd"].median("wall_s") or 1)
            found.append(Target(text, f"s3safe {mine:.0f} MiB/s vs s5cmd {theirs:.0f} MiB/s: ratio {mine / theirs:.2f}",
                                mine >= 0.8 * theirs))  # fmt: skip
    sync = _find(scenarios, "sync-small")
    text = f"{sizes_note}no-change sync of the small set ≤ 0.35 s wall"
    if sync is None or primary not in sync.tools or sync.tools[primary].median("wall_s") is None:
        found.append(Target(text, "not run or no successful s3safe run", None))
    else:
        wall = sync.tools[primary].median("wall_s") or 0.0
        found.append(Target(text, f"s3safe {wall:.2f} s", wall <= 0.35))
    crypt = _find(scenarios, "crypt-medium")
    text = f"{sizes_note}encrypted (age) medium-file upload ≤ 1.2 × the unencrypted upload, same run"
    r = ratio(crypt, "s3safe+age", primary, "wall_s") if crypt is not None else None
    if r is None:
        found.append(Target(text, "not run or no successful runs of both", None))
    else:
        assert crypt is not None
        found.append(Target(text, f"{crypt.tools['s3safe+age'].median('wall_s'):.2f} s vs {crypt.tools[primary].median('wall_s'):.2f} s: "
                                  f"ratio {r:.2f} (limit 1.20)", r <= 1.2))  # fmt: skip
    many = _find(scenarios, "sync-many")
    if many is None:
        found.append(Target("no-change sync of 100,000 files ≤ 1.0 × s5cmd", "not measured (run with --many 100000)", None))
        found.append(Target("peak RSS ≤ 150 MB for a 100,000-file sync", "not measured (run with --many 100000)", None))
    else:
        label = f"no-change sync of {many.files:,} files"
        found.append(_ratio_target(scenarios, "sync-many", primary, "wall_s", 1.0, f"{label} ≤ 1.0 × s5cmd"))
        rss = many.tools[primary].median("maxrss_mb") if primary in many.tools else None
        found.append(
            Target(
                f"peak RSS ≤ 150 MB for a {many.files:,}-file sync",
                "no successful s3safe run" if rss is None else f"s3safe {rss:.0f} MB",
                None if rss is None else rss <= 150,
            )
        )
    return found


def targets_text(found: list[Target]) -> str:
    return "\n".join(f"  [{t.verdict():>12}] {t.text} — {t.measured}" for t in found)


def targets_markdown(found: list[Target]) -> str:
    lines = ["| target | measured | verdict |", "| --- | --- | --- |"]
    lines += [f"| {_md_cell(t.text)} | {_md_cell(t.measured)} | {t.verdict()} |" for t in found]
    return "\n".join(lines)


def as_json(scenarios: list[ScenarioResult], found: list[Target], meta: dict[str, Any], primary: str) -> dict[str, Any]:
    out_scenarios = []
    for s in scenarios:
        tools = {}
        for name, result in s.tools.items():
            tools[name] = {
                "status": result.status,
                "reason": result.reason,
                "command": result.command,
                "median": {attr: result.median(attr) for attr in ("wall_s", "cpu_s", "maxrss_mb", "server_cpu_s")},
                "ratio_s3safe_over_peer": None if name == primary else {
                    "wall": ratio(s, primary, name, "wall_s"), "cpu": ratio(s, primary, name, "cpu_s")},
                "runs": [run.__dict__ for run in result.runs],
            }  # fmt: skip
        out_scenarios.append(
            {
                "id": s.id,
                "title": s.title,
                "kind": s.kind,
                "dataset": s.dataset,
                "files": s.files,
                "bytes": s.bytes,
                "tools": tools,
            }
        )
    return {
        "meta": meta,
        "scenarios": out_scenarios,
        "targets": [{"target": t.text, "measured": t.measured, "met": t.met} for t in found],
    }
