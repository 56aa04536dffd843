"""put, get and sync: single files, or whole trees with -r."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, TypeVar

import click

from s3safe.cli.app import App
from s3safe.cli.crypto_options import (
    DECRYPT_KEYS,
    ENCRYPT_KEYS,
    crypto_options,
    decryption_from,
    encryption_from,
    pop_crypto,
    refuse,
)
from s3safe.cli.options import UPLOAD_KEYS, build_upload_options, gate_options, lock_options, make_gate, upload_options
from s3safe.cli.prechecks import precheck
from s3safe.cli.render import human_size
from s3safe.core import cancel
from s3safe.core.errors import NotFoundAtTime, S3SafeError, UsageError
from s3safe.core.locations import is_s3_url, local_path, parse_s3_url
from s3safe.core.models import ActionResult
from s3safe.core.progress import TransferProgress, watching

pass_app = click.make_pass_decorator(App)
Mode = Literal["all", "diff", "newer"]


def tree_options(func: Callable[..., Any]) -> Callable[..., Any]:
    decorators = [
        click.option("--only-diff", is_flag=True, help="Transfer only new or changed files (by content)."),
        click.option("--only-newer", is_flag=True, help="Transfer only files newer than the other side."),
        click.option("--purge", "--delete", "purge", is_flag=True,
                     help="Delete what the source no longer has, on the destination side (after all transfers)."),  # fmt: skip
        click.option("--include", multiple=True, metavar="GLOB", help="Only matching files (repeatable)."),
        click.option("--exclude", multiple=True, metavar="GLOB", help="Skip matching files; wins over --include."),
        click.option("--where", metavar="EXPR", help="Transfer only files/objects matching the condition."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return gate_options(func)


follow_option = click.option("--follow-symlinks", is_flag=True, help="Follow symbolic links (default: skip them).")
allow_empty_option = click.option(
    "--allow-empty", is_flag=True, help="With -r: an empty or missing source is not an error (default: exit 3)."
)
keep_setuid_option = click.option(
    "--keep-setuid", is_flag=True, help="Restore setuid, setgid and sticky bits stored at upload (default: dropped)."
)
sse_c_option = click.option(
    "--sse-c-key-file", "sse_c_key_file", metavar="FILE",
    help="SSE-C: encrypt/decrypt on the server with this 256-bit key (32 bytes, or base64); HTTPS only.",
)  # fmt: skip
TREE_KEYS = ("only_diff", "only_newer", "purge", "include", "exclude", "follow_symlinks", "where", "local_delete")
F = TypeVar("F", bound=Callable[..., Any])


def local_delete_option(func: F) -> F:
    """A plain --local-delete flag beside --local-delete-where EXPR: an optional value would swallow the next word
    (`--local-delete ./data s3://b/` made ./data the condition). `--local-delete=EXPR` still works (LocalDeleteCommand)."""
    func = click.option("--local-delete-where", "local_delete_where", metavar="EXPR",
                        help="Like --local-delete, only for files that satisfy EXPR (also --local-delete=EXPR).")(func)  # fmt: skip
    return click.option("--local-delete", "local_delete_flag", is_flag=True,
                        help="Delete local files that already match on S3; needs --only-diff.")(func)  # fmt: skip


class LocalDeleteCommand(click.Command):
    """Reads `--local-delete=EXPR` as `--local-delete-where EXPR`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        rewritten: list[str] = []
        for i, arg in enumerate(args):
            if arg == "--":
                rewritten += args[i:]
                break
            rewritten += ["--local-delete-where", arg.partition("=")[2]] if arg.startswith("--local-delete=") else [arg]
        return super().parse_args(ctx, rewritten)


def _pop_local_delete(values: dict[str, Any]) -> None:
    """values["local_delete"]: None, "true" (every file that matches) or the condition."""
    flag, where = values.pop("local_delete_flag"), values.pop("local_delete_where")
    if where is not None and not where.strip():
        raise UsageError("--local-delete-where needs a condition", hint="or use a plain --local-delete for every file")
    values["local_delete"] = where or ("true" if flag else None)


def _tree(
    values: dict[str, Any], upload_values: dict[str, Any] | None, *, defaults: dict[str, Any], move: bool = False,
    default_mode: Mode = "all", encryption: Any = None, decryption: Any = None, as_of: Any = None,
) -> Any:  # fmt: skip
    from s3safe.transfer.engine import TreeOptions
    from s3safe.transfer.options import UploadOptions

    if values["only_diff"] and values["only_newer"]:
        raise UsageError("choose one of --only-diff and --only-newer")
    mode: Mode = "diff" if values["only_diff"] else "newer" if values["only_newer"] else default_mode
    where = _compile(values.get("where"))
    local_delete = _compile(values.get("local_delete"))
    return TreeOptions(
        where=where, local_delete=local_delete, allow_empty=values.get("allow_empty", False),
        keep_setuid=values.get("keep_setuid", False),
        mode=mode, purge=values["purge"], move=move, include=tuple(values["include"]), exclude=tuple(values["exclude"]),
        follow_symlinks=values.get("follow_symlinks", False),
        upload=build_upload_options(upload_values, defaults) if upload_values is not None else UploadOptions(),
        encryption=encryption, decryption=decryption, as_of=as_of,
    ).validate()  # fmt: skip


def _compile(text: str | None) -> Any:
    """A --where / --local-delete condition; the condition language is imported only when one is given
    (its import costs about as much as a small restore's planning)."""
    if not text:
        return None
    from s3safe.query import compile_where

    return compile_where(text, scope="any")


def _render_tree(app: App, results: Iterator[ActionResult], summary: Any, meter: TransferProgress) -> None:
    r = app.render
    r.finish_if_stdout_closes()
    try:
        with r.transfer_progress(meter):
            _render_results(app, results)
    except KeyboardInterrupt as stop:  # Ctrl-C or SIGTERM: the one error line says how far the run got
        # the interrupt may have come while a result was shown, outside the transfer's generators: they learn of it
        # from the run's flag when they are dropped, and stop their workers instead of waiting for them
        cancel.cancel()
        snap = meter.snapshot()
        stop.done = f"{snap.files_done} of {snap.files_total}{'' if snap.planned else '+'} files done"  # type: ignore[attr-defined]
        raise
    _render_summary(app, summary)


def _render_results(app: App, results: Iterator[ActionResult]) -> None:
    r = app.render
    for result in results:
        if not result.ok:
            r.record(result.to_dict(), None)
            if not r.json_mode:
                r.line(f"FAILED {result.action} {result.target}: {result.error}", err=True)
            continue
        if result.action == "skip" and not app.verbose:
            if r.json_mode:
                r.record(result.to_dict(), None)
            continue
        prefix = "(dry run) would " if result.dry_run else ""
        detail = f"  [{result.detail}]" if result.detail else ""
        # -q keeps results: a dry run's is its plan (as rm -r's and rb --force's are shown)
        r.record(result.to_dict(), None if r.quiet and not result.dry_run else f"{prefix}{result.action} {result.target}{detail}")


def skipped_text(skipped: int, *, special: int, filtered: int) -> str:
    """`5 skipped (1 not a regular file, 2 filtered out)` for the summary line."""
    why = [f"{special} not a regular file" if special == 1 else f"{special} not regular files"] * bool(special)
    why += [f"{filtered} filtered out"] * bool(filtered)
    return f"{skipped} skipped" + (f" ({', '.join(why)})" if why else "")


def _render_summary(app: App, summary: Any) -> None:
    r = app.render
    for warning in summary.warnings:
        r.warn(warning)
    data = summary.to_dict()
    rate = f", {human_size(data['bytes_per_second'])}/s" if data["transferred"] else ""
    skipped = skipped_text(data["skipped"], special=data["special"], filtered=data["filtered"])
    text = (f"{data['transferred']} transferred ({human_size(data['bytes'])}), {skipped}, "
            f"{data['deleted']} deleted, {data['failed']} failed"
            + (f", {data['refused']} refused" if data["refused"] else "")
            + (f", {data['planned']} planned (dry run)" if data["planned"] else "")
            + f" in {data['elapsed_seconds']:.2f}s{rate}")  # fmt: skip
    r.info(text, data=data)
    if app.verbose:
        r.note(f"change detection hashed {summary.hashed} file(s) and made {summary.requests} request(s)")
    failure = summary.failure()
    if failure is not None:
        raise failure


@click.command(cls=LocalDeleteCommand)
@click.argument("paths", nargs=-1, required=True, metavar="LOCAL... S3URL")
@click.option("-r", "--recursive", is_flag=True, help="Upload a folder tree.")
@click.option("--move", is_flag=True, help="Delete each local file once its upload succeeded.")
@click.option("--no-clobber", is_flag=True, help="Never replace an existing object (If-None-Match: *, atomic where supported).")
@local_delete_option
@follow_option
@tree_options
@upload_options
@lock_options
@crypto_options(upload=True, download=False)
@sse_c_option
@pass_app
def put(
    app: App, /, paths: tuple[str, ...], recursive: bool, move: bool, dry_run: bool, max_delete: int | None, **values: Any
) -> None:
    """Upload files or (-r) folder trees: private, encrypted, checksummed."""
    if len(paths) < 2:
        raise click.UsageError("give at least one local path and the destination S3URL")
    precheck_put({"recursive": recursive, "move": move, **values})
    app.use_sse_c_key(values.pop("sse_c_key_file"))
    _pop_local_delete(values)
    tree_values = {k: values.pop(k) for k in TREE_KEYS}
    crypto = pop_crypto(values)
    dest = parse_s3_url(paths[-1])
    gate = make_gate(dry_run, max_delete)
    encryption = encryption_from(crypto, bucket=dest.bucket)
    if recursive:
        from s3safe.transfer.engine import TreeSummary, upload_tree

        if len(paths) != 2:
            raise UsageError("with -r give one local folder and the destination S3URL")
        options = _tree(tree_values, values, defaults=app.defaults, move=move, encryption=encryption)
        summary, meter = TreeSummary(), TransferProgress()
        results = upload_tree(app.conn, local_path(paths[0]), dest, options=options, gate=gate, summary=summary, progress=meter)
        _render_tree(app, results, summary, meter)
        return
    from s3safe.transfer.single import upload_files

    options = build_upload_options(values, app.defaults)
    if "-" in paths[:-1]:
        _put_stdin(app, paths, dest, options=options, gate=gate, encryption=encryption)
        return
    files = [local_path(p) for p in paths[:-1]]
    meter = TransferProgress()
    app.actions(upload_files(app.conn, files, dest, options=options, gate=gate, encryption=encryption, progress=meter),
                noun="file", progress=meter)  # fmt: skip


@precheck("put")
def precheck_put(params: Mapping[str, Any]) -> None:
    """put's option checks that need neither the store nor the disk (exec runs them before line 1)."""
    local_delete = params.get("local_delete_flag") or params.get("local_delete_where") is not None
    tree = any(params.get(k) for k in TREE_KEYS if k != "local_delete") or local_delete or params.get("move")
    if not params.get("recursive") and tree:
        raise UsageError(
            "--only-diff, --only-newer, --purge, --move, --include/--exclude, --where, --local-delete and --follow-symlinks need -r"
        )
    if local_delete and not params.get("only_diff"):
        raise UsageError("--local-delete needs --only-diff, which is how s3safe knows a file already matches on S3")
    from s3safe.transfer.options import check_acl

    check_acl(params.get("acl"), allow_public=bool(params.get("allow_public")))


def _put_stdin(app: App, paths: tuple[str, ...], dest: Any, *, options: Any, gate: Any, encryption: Any) -> None:
    """`put - S3URL`: standard input as one object (a file named '-' is './-')."""
    from s3safe.transfer.streams import upload_stream

    if len(paths) != 2:
        raise UsageError("'-' (standard input) uploads alone: put - S3URL", hint="a file named '-' is ./-")
    if gate.dry_run:
        raise UsageError("--dry-run cannot read standard input without sending it", hint="leave out --dry-run")
    from s3safe.core.progress import counting_stream

    meter = TransferProgress()  # the size is known only at the end: the display shows bytes moved and the rate
    limited = app.conn.limiter is not None
    with app.render.transfer_progress(meter, stream="standard input"), \
            counting_stream(app.render.data_in(), meter, limited=limited) as source:  # fmt: skip
        r = upload_stream(app.conn, source, dest, options=options, encryption=encryption)
    done = ActionResult("upload", r.destination, detail=f"{r.size} bytes from standard input, acl {r.acl}, sse {r.sse or 'bucket default'}, "
                        f"verified by {r.verified}")  # fmt: skip
    app.actions([done], noun="file")


@click.command()
@click.argument("url")
@click.argument("local", default=".")  # a str: a trailing "/" (a folder) must survive
@click.option("-r", "--recursive", is_flag=True, help="Download everything under the prefix.")
@click.option("--as-of", "as_of", metavar="TIME",
              help="With -r: the tree as it was at TIME (ISO 8601 with zone, or an age: 2d, 36h), from the bucket's versions.")
@click.option("--version-id", "version_id", metavar="ID", help="That version of the object (see 'ls --versions').")
@allow_empty_option
@keep_setuid_option
@tree_options
@crypto_options(upload=False, download=True)
@sse_c_option
@pass_app
def get(app: App, /, url: str, local: str, recursive: bool, dry_run: bool, max_delete: int | None, **values: Any) -> None:
    """Download objects, verified against their checksums, written atomically; decrypts what s3safe encrypted."""
    precheck_get({**values, "recursive": recursive, "local": local})
    app.use_sse_c_key(values.pop("sse_c_key_file"))
    gate = make_gate(dry_run, max_delete)
    decryption = decryption_from(pop_crypto(values))
    as_of_text, version_id = values.pop("as_of"), values.pop("version_id")
    if recursive:
        from s3safe.transfer.engine import TreeSummary, download_tree

        summary, meter = TreeSummary(), TransferProgress()
        options = _tree(values, None, defaults=app.defaults, decryption=decryption, as_of=_as_of(as_of_text))
        results = download_tree(app.conn, parse_s3_url(url), local_path(local), options=options, gate=gate, summary=summary,
                                progress=meter)  # fmt: skip
        try:
            _render_tree(app, results, summary, meter)
        except NotFoundAtTime as exc:  # the library names --as-of's moment in ISO: shown like every time (--utc, local)
            exc.show_time(app.render.time(exc.when))
            raise
        return
    keep_setuid = values.pop("keep_setuid")
    from s3safe.transfer.download import download_file

    source = parse_s3_url(url, require_key=True)
    if local == "-":  # standard output (a file named '-' is ./-)
        _get_stdout(app, source, dry_run=gate.dry_run, decryption=decryption)
        return
    local_path(local)  # refuses "": the destination keeps its own spelling (a trailing / means a folder)

    def fetch(_: object) -> ActionResult:
        r = download_file(app.conn, source, local, decryption=decryption, special_bits=keep_setuid, version_id=version_id)
        return ActionResult("download", r.destination, detail=f"{r.size} bytes, verified by {r.verified}")

    meter = TransferProgress()  # the object's size is learnt from its HEAD, once the download began
    watched = watching(meter, fetch, name_of=lambda _: source.key, size_of=lambda _: 0)
    list(meter.plan([source], size_of=lambda _: 0))  # one file, and the plan is complete: "files 0/1" from the start
    app.actions(gate.apply_each("download", [source], watched, describe=lambda s: f"{s} -> {local}", threads=1), noun="file",
                progress=meter)  # fmt: skip


@precheck("get")
def precheck_get(params: Mapping[str, Any]) -> None:
    """get's checks that need neither the store nor the disk (exec runs them before line 1)."""
    version_id = params.get("version_id")
    if version_id is not None and not version_id.strip():  # before a dry run too: it would read the current version
        raise UsageError("--version-id is empty", hint="pass a version id from 'ls --versions', or leave the option out")
    _as_of(params.get("as_of"))  # a time without a zone: UsageError
    if params.get("recursive") and params.get("local") == "-":
        raise UsageError("- is standard output, not a folder", hint="for a folder named -, write ./-")
    if params.get("recursive") and version_id is not None:
        raise UsageError("--version-id names one version of one object; for a tree as it was, use -r --as-of TIME")
    if params.get("local") == "-" and version_id is not None:
        raise UsageError("--version-id does not write to standard output yet", hint="get the version into a file")
    tree_only = ("only_diff", "only_newer", "purge", "include", "exclude", "where", "allow_empty", "as_of")
    if not params.get("recursive") and any(params.get(k) for k in tree_only):
        raise UsageError("--only-diff, --only-newer, --purge, --include/--exclude, --where, --allow-empty and --as-of need -r",
                         hint="for one object as it was, find its version with 'ls --versions' and use --version-id")  # fmt: skip


def _as_of(text: str | None) -> Any:
    """The moment --as-of names (None without it); a time without zone is a usage error."""
    if text is None:
        return None
    from datetime import UTC, datetime

    from s3safe.core.timespec import parse_point_in_time

    return parse_point_in_time(text, now=datetime.now(UTC))


def _get_stdout(app: App, source: Any, *, dry_run: bool, decryption: Any) -> None:
    """`get S3URL -`: the object to standard output, verified at the end (exit 6 after the fact if it fails)."""
    from s3safe.transfer.streams import download_stream

    if dry_run:
        app.render.record({"type": "action", "action": "download", "target": str(source), "dry_run": True},
                          f"(dry run) would download {source} to standard output")  # fmt: skip
        return
    out = app.render.data_out()  # the rest of this run's messages go to stderr
    if out.isatty():  # an object's bytes can drive a terminal as a key name could (escape sequences)
        raise UsageError("refusing to write an object to a terminal", hint="pipe it into a program or redirect it to a file")
    meter = TransferProgress()  # the total is the object's size, learnt from its HEAD
    list(meter.plan([source], size_of=lambda _: 0))  # one file, and the plan is complete
    try:
        with app.render.transfer_progress(meter), meter.file(source.key, 0):
            r = download_stream(app.conn, source, out, decryption=decryption)
    except S3SafeError as exc:
        if isinstance(exc.__cause__, BrokenPipeError):  # `| head -c 100`: the reader has what it wanted
            app.render.data_reader_gone()
        raise
    app.render.info(f"download {r.source} to standard output  [{r.size} bytes, verified by {r.verified}]",
                    data={"type": "action", "action": "download", "target": r.source, "ok": True, "verified": r.verified})  # fmt: skip


@click.command(cls=LocalDeleteCommand)
@click.argument("source")
@click.argument("destination")
@local_delete_option
@follow_option
@allow_empty_option
@keep_setuid_option
@tree_options
@upload_options
@lock_options
@crypto_options(upload=True, download=True)
@sse_c_option
@pass_app
def sync(app: App, /, source: str, destination: str, dry_run: bool, max_delete: int | None, **values: Any) -> None:
    """Mirror a folder to S3 or S3 to a folder, transferring only what changed."""
    from s3safe.transfer.engine import TreeSummary, download_tree, upload_tree

    app.use_sse_c_key(values.pop("sse_c_key_file"))
    _pop_local_delete(values)
    tree_values = {k: values.pop(k) for k in (*TREE_KEYS, "allow_empty", "keep_setuid")}
    crypto = pop_crypto(values)
    gate = make_gate(dry_run, max_delete)
    summary, meter = TreeSummary(), TransferProgress()
    if is_s3_url(destination) and not is_s3_url(source):
        refuse(crypto, DECRYPT_KEYS, "apply to downloads, not to an upload")
        if tree_values["allow_empty"] or tree_values["keep_setuid"]:
            raise UsageError("--allow-empty and --keep-setuid apply to downloads, not to an upload")
        dest = parse_s3_url(destination)
        options = _tree(tree_values, values, defaults=app.defaults, default_mode="diff",
                        encryption=encryption_from(crypto, bucket=dest.bucket))  # fmt: skip
        results = upload_tree(app.conn, local_path(source), dest, options=options, gate=gate, summary=summary, progress=meter)
    elif is_s3_url(source) and not is_s3_url(destination):
        given = [k for k in UPLOAD_KEYS if values.get(k)] + [k for k in ("follow_symlinks", "local_delete") if tree_values[k]]
        if given:
            raise UsageError(
                "options for uploads do not apply to a download: " + ", ".join("--" + k.replace("_", "-") for k in given)
            )
        refuse(crypto, ENCRYPT_KEYS, "apply to uploads; downloads decrypt automatically")
        options = _tree(tree_values, None, defaults=app.defaults, default_mode="diff", decryption=decryption_from(crypto))
        results = download_tree(app.conn, parse_s3_url(source), local_path(destination), options=options, gate=gate,
                                summary=summary, progress=meter)  # fmt: skip
    else:
        raise UsageError("sync needs one local folder and one S3URL", hint="for S3 to S3 use 'cp -r'")
    _render_tree(app, results, summary, meter)
