"""The `s3safe` command: global options, error handling and exit codes. Commands live beside it."""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from typing import Any, ClassVar

# awscrt is here for S3's CRC checksums only. botocore, finding it importable, would also sign every request
# with the CRT's SigV4 signer instead of its own: another code path, with none of the botocore.auth logging
# that --debug shows (redacted). The s3safe process keeps botocore's own signer; BOTO_DISABLE_CRT=false in
# the environment still chooses the CRT. Set before anything imports botocore.
os.environ.setdefault("BOTO_DISABLE_CRT", "true")
if os.environ["BOTO_DISABLE_CRT"].lower() == "true":
    # botocore imports awscrt.auth only to learn whether the CRT is there, and leaves it unused when disabled:
    # loading the 12 MB native library cost ~50 ms of CPU on every command that talks to S3. Our own CRCs
    # import awscrt.checksums, which this does not block.
    sys.modules.setdefault("awscrt.auth", None)  # type: ignore[arg-type]  # None makes the import fail

import click

from s3safe import __version__
from s3safe.cli.app import App
from s3safe.cli.examples import attach_examples
from s3safe.cli.numbers import WHOLE
from s3safe.cli.render import OutputClosed, Renderer, went_on_without_reader
from s3safe.core.context import current as current_run
from s3safe.core.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, EXIT_USAGE, S3SafeError, Terminated, exit_code_for

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class LazyGroup(click.Group):
    """Imports a command's module only when that command runs, to keep start-up fast."""

    lazy: ClassVar[dict[str, tuple[str, str]]] = {
        "ls": ("s3safe.cli.cmd_objects", "ls"),
        "rm": ("s3safe.cli.cmd_objects", "rm"),
        "cp": ("s3safe.cli.cmd_objects", "cp"),
        "mkdir": ("s3safe.cli.cmd_objects", "mkdir"),
        "revert": ("s3safe.cli.cmd_versions", "revert"),
        "undelete": ("s3safe.cli.cmd_versions", "undelete"),
        "put": ("s3safe.cli.cmd_transfer", "put"),
        "get": ("s3safe.cli.cmd_transfer", "get"),
        "sync": ("s3safe.cli.cmd_transfer", "sync"),
        "mb": ("s3safe.cli.cmd_buckets", "mb"),
        "rb": ("s3safe.cli.cmd_buckets", "rb"),
        "info": ("s3safe.cli.cmd_buckets", "info"),
        "meta": ("s3safe.cli.cmd_meta", "meta"),
        "acl": ("s3safe.cli.cmd_meta", "acl"),
        "uploads": ("s3safe.cli.cmd_admin", "uploads"),
        "restore": ("s3safe.cli.cmd_admin", "restore"),
        "config": ("s3safe.cli.cmd_admin", "config"),
        "policy": ("s3safe.cli.cmd_security", "policy"),
        "harden": ("s3safe.cli.cmd_security", "harden"),
        "logging": ("s3safe.cli.cmd_security", "logging_group"),
        "logs": ("s3safe.cli.cmd_logs", "logs"),
        "presign": ("s3safe.cli.cmd_security", "presign"),
        "audit": ("s3safe.cli.cmd_audit", "audit"),
        "inventory": ("s3safe.cli.cmd_inventory", "inventory"),
        "jobs": ("s3safe.cli.cmd_inventory", "jobs"),
        "trail": ("s3safe.cli.cmd_trail", "trail"),
        "auth": ("s3safe.cli.cmd_auth", "auth"),
        "exec": ("s3safe.cli.cmd_exec", "exec_"),
        "shell": ("s3safe.cli.cmd_shell", "shell"),
        "completion": ("s3safe.cli.cmd_shell", "completion"),
        "keygen": ("s3safe.cli.cmd_crypto", "keygen"),
        "encrypt": ("s3safe.cli.cmd_crypto", "encrypt"),
        "decrypt": ("s3safe.cli.cmd_crypto", "decrypt"),
        "reencrypt": ("s3safe.cli.cmd_crypto", "reencrypt"),
    }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(self.lazy)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.lazy:
            return None
        import importlib

        module, attr = self.lazy[cmd_name]
        command: click.Command = getattr(importlib.import_module(module), attr)
        attach_examples(command, cmd_name)
        return command


def _setup_logging(render: Renderer, verbose: int, debug: bool) -> None:
    handler = render.log_handler("s3safe: %(levelname)s %(name)s: %(message)s")
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    logging.getLogger("s3safe").setLevel(logging.DEBUG if verbose > 1 or debug else logging.INFO if verbose else logging.WARNING)
    if debug:
        for name in ("botocore", "boto3", "s3transfer", "urllib3"):
            logging.getLogger(name).setLevel(logging.DEBUG)
    from s3safe.storage.requestlog import show_retries

    show_retries(on=bool(verbose or debug))


_WARNED_HTTP: set[str] = set()
INTERRUPT_GRACE_SECONDS = 3.0
# commands that send no request: an endpoint they would refuse (plain HTTP in the environment) is no concern of theirs
LOCAL_COMMANDS = frozenset({"keygen", "encrypt", "decrypt", "completion", "config", "auth"})


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.version_option(__version__, prog_name="s3safe")
@click.option("--profile", metavar="NAME", help="AWS profile from ~/.aws/config.")
@click.option("--auth", metavar="NAME", help="Saved s3safe profile to sign with (env S3SAFE_AUTH; 'none': ignore the default).")
@click.option("--endpoint-url", metavar="URL", help="S3-compatible endpoint (env S3SAFE_ENDPOINT_URL, AWS_ENDPOINT_URL).")
@click.option("--region", metavar="REGION", help="Region; bucket regions are discovered automatically.")
@click.option("--ca-bundle", metavar="FILE", help="PEM file of CA certificates to trust (private CA).")
@click.option("--allow-http", is_flag=True, help="Allow a plain-HTTP endpoint (local test servers only).")
@click.option("--json", "json_mode", is_flag=True, help="Print one JSON object per line.")
@click.option("-q", "--quiet", is_flag=True, help="Print only results, warnings and errors.")
@click.option("--utc", is_flag=True, help="Show times in UTC (marked Z) instead of local time with its offset.")
@click.option(
    "--progress/--no-progress",
    "progress",
    default=None,
    help="Live transfer progress on stderr (default: when stderr is a terminal, not with --json or -q).",
)
@click.option("--progress-json", is_flag=True, help="With --json: a 'progress' record every second during transfers.")
@click.option("-v", "--verbose", count=True, help="More detail on stderr (-vv for debug).")
@click.option("--debug", is_flag=True, help="Log every request (secrets redacted).")
@click.option("-t", "--threads", type=WHOLE, metavar="N", help="Parallel requests (default 10).")
@click.option("--max-bandwidth", metavar="RATE", help="Bandwidth cap, e.g. 20MB.")
@click.option("--retries", type=WHOLE, metavar="N", help="Retry attempts per request (default 5).")
@click.option("--timeout", type=float, metavar="SECONDS", help="Connect/read timeout (default 60).")
@click.pass_context
def main(
    ctx: click.Context, /, json_mode: bool, quiet: bool, verbose: int, debug: bool, utc: bool, progress: bool | None,
    progress_json: bool, **options: Any,
) -> None:  # fmt: skip
    """s3safe: copy, query, back up and lock down Amazon S3 and S3-compatible stores, securely by default."""
    from s3safe.cli.cmd_auth import configure_auth
    from s3safe.core.settings import ConnectionSettings, load_config, resolve_settings

    if progress_json and not json_mode:
        raise click.UsageError("--progress-json needs --json")
    render = Renderer(json_mode=json_mode, quiet=quiet, utc=utc, progress=progress, progress_json=progress_json)
    _setup_logging(render, verbose, debug)
    configure_auth(options.pop("auth", None))
    local = ctx.invoked_subcommand in LOCAL_COMMANDS
    try:
        config = load_config()
        settings = resolve_settings(options, config=config, check_endpoint_url=not local)
    except S3SafeError as unusable:
        # said when the command first needs the connection (exit 2 as before): --help, the commands that send no
        # request, and `config set/unset`, which repair the file, still work
        ctx.obj = App(settings=ConnectionSettings(), render=render, verbose=verbose, unusable=unusable)
        return
    if settings.uses_http and not local and settings.endpoint_url not in _WARNED_HTTP:  # once per process (exec, shell)
        _WARNED_HTTP.add(str(settings.endpoint_url))
        render.warn(f"using plain HTTP to {settings.endpoint_url}: data and request metadata are not encrypted in transit")
    _register_passphrase_early()
    ctx.obj = App(settings=settings, render=render, verbose=verbose, defaults=config)


attach_examples(main, "")

GLOBAL_FLAGS = {
    "--allow-http",
    "--json",
    "-q",
    "--quiet",
    "--utc",
    "--progress",
    "--no-progress",
    "--progress-json",
    "-v",
    "-vv",
    "-vvv",
    "--verbose",
    "--debug",
}
GLOBAL_VALUED = {"--profile", "--auth", "--endpoint-url", "--region", "--ca-bundle", "-t", "--threads", "--max-bandwidth", "--retries", "--timeout"}  # fmt: skip


def _value_options(argv: list[str]) -> tuple[set[str], set[str]]:
    """Names of the invoked (sub)command's options that take a value, and of those whose value is optional."""
    names: set[str] = set()
    optional: set[str] = set()
    command: click.Command | None = main
    ctx = click.Context(main)
    skip = False
    for token in argv:
        if skip:  # the value of a global option
            skip = False
            continue
        if token in GLOBAL_VALUED:
            skip = True
            continue
        if not isinstance(command, click.Group) or token.startswith("-"):
            continue
        command = command.get_command(ctx, token)
        if command is None:
            break
        for param in command.params:
            if isinstance(param, click.Option) and not param.is_flag and not param.count:
                names.update(param.opts)
                if param._flag_needs_value:  # e.g. --require-sse [ALG]: a following option is not its value
                    optional.update(param.opts)
    return names, optional


def hoist_global_options(argv: list[str]) -> list[str]:
    """Let global options follow the command (`s3safe ls s3://b --json`), as people type them.

    A token that is the value of one of the command's own options (`--content-type -v`) stays.
    """
    command_valued, optional = _value_options([a for a in argv if a not in GLOBAL_FLAGS])
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        name = arg.split("=", 1)[0]
        if arg == "--":
            rest.extend(argv[i:])
            break
        if arg in GLOBAL_FLAGS:
            front.append(arg)
        elif name in GLOBAL_VALUED:
            front.append(arg)
            if "=" not in arg and i + 1 < len(argv):
                i += 1
                front.append(argv[i])
        else:
            rest.append(arg)
            takes_next = name in command_valued and "=" not in arg and i + 1 < len(argv)
            if takes_next and not (name in optional and argv[i + 1].startswith("-")):
                i += 1
                rest.append(argv[i])
        i += 1
    return front + rest


def _register_passphrase_early() -> None:
    """$S3SAFE_PASSPHRASE is masked from the first output line on: the passphrase is loaded only with the first
    encrypted object, and a request line logged before that (a key named like the passphrase) would show it."""
    from s3safe.core.redact import register_passphrase
    from s3safe.crypto._common import ENV_PASSPHRASE

    register_passphrase(os.environ.get(ENV_PASSPHRASE) or None)


def run(argv: list[str] | None = None) -> None:
    """Entry point: runs the CLI and turns every failure into one line and an exit code."""
    from s3safe.core.process import forbid_core_dumps, reuse_freed_buffers

    forbid_core_dumps()  # every command holds credentials, many a passphrase or keys: no core file may copy them
    reuse_freed_buffers()  # before the first large buffer: upload parts reuse memory instead of fresh pages
    _terminate_like_interrupt()
    code = invoke(list(sys.argv[1:] if argv is None else argv))
    if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
        _end_past_stuck_workers(code)
    _skip_last_collection()
    sys.exit(code)


def _skip_last_collection() -> None:
    """The command is over: its files, journals and state caches were closed by its own `with` blocks and
    context, before invoke() returned. What the interpreter's last garbage collection would still trace and
    free one object at a time is mostly a botocore client's service model and endpoint rules (some 36,000
    objects in reference cycles after a `get`: ~0.1 s of its wall time); the OS takes them back at once.
    Only cycles are left alone: the interpreter still flushes stdout and stderr, runs atexit and joins
    threads, and frees everything else as it always did; the exit code is sys.exit's."""
    import gc

    gc.freeze()


def _terminate_like_interrupt() -> None:
    """SIGTERM (kill, a service manager, a CI timeout) unwinds like Ctrl-C: scratch folders holding copies of
    logs or inventories are removed and nothing half-written stays, instead of the process vanishing. It exits
    143, not Ctrl-C's 130."""
    import signal

    def handler(signum: int, frame: object) -> None:
        raise Terminated

    try:
        signal.signal(signal.SIGTERM, handler)
    except ValueError:  # not the main thread (an embedding program): its own handling stays
        pass


def _end_past_stuck_workers(code: int) -> None:
    """After Ctrl-C, a worker blocked in a system call (writing into a FIFO whose reader stopped reading, a
    hung network filesystem) never sees the cancel flag, and Python would wait for it at exit forever.
    Workers get a short grace to clean up; then the process ends anyway."""
    import os
    import threading
    import time

    deadline = time.monotonic() + INTERRUPT_GRACE_SECONDS
    others = [t for t in threading.enumerate() if t is not threading.main_thread() and not t.daemon]
    for thread in others:
        thread.join(max(0.0, deadline - time.monotonic()))
    if any(thread.is_alive() for thread in others):
        from s3safe.cli.render import flush_terminal

        flush_terminal()  # os._exit skips the interpreter's own flush
        os._exit(code)


def invoke(argv: list[str]) -> int:
    """Run one command line in this process (the entry point, `exec` and `shell`); returns its exit code."""
    argv = hoist_global_options(argv)
    json_mode = "--json" in argv
    render = Renderer(json_mode=json_mode, quiet=False)
    code = 0
    try:
        # not main.main(): it turns Ctrl-C and SIGTERM alike into Abort after a blank line on stderr. Its one
        # other duty, answering the completion scripts (`completion bash`), is done here as it does it
        main._main_shell_completion({}, "s3safe", None)  # exits when _S3SAFE_COMPLETE is set, else returns
        with main.make_context("s3safe", argv) as ctx:
            result = main.invoke(ctx)
        if isinstance(result, int) and not isinstance(result, bool):  # ctx.exit(code) returns it here
            code = result
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.exceptions.NoArgsIsHelpError as exc:  # `s3safe`, `s3safe meta`: the help, as asked for (git's habit)
        code = 0
        with contextlib.suppress(BrokenPipeError, OutputClosed):  # `s3safe meta | head -1`: the reader went away
            render.block(exc.ctx.get_help())
    except click.exceptions.Abort:
        render.error("aborted", code=EXIT_INTERRUPTED)
        code = EXIT_INTERRUPTED
    except click.ClickException as exc:
        code = exc.exit_code if exc.exit_code else EXIT_USAGE
        render.error(exc.format_message(), code=code)
        if isinstance(exc, click.UsageError) and exc.ctx is not None:
            render.line(f"Try '{exc.ctx.command_path} --help' for help.", err=True)
    except S3SafeError as exc:
        code = exit_code_for(exc)
        # a condition's syntax error shows the expression with a caret under the offending token
        first, *context = str(exc).split("\n") if hasattr(exc, "expression") else (str(exc),)
        render.error(first, code=code, context=context)
    except KeyboardInterrupt as exc:
        code = exit_code_for(exc)
        for note in list(current_run().loose_ends.values()):  # requests that had no answer yet
            render.warn(note)
        what = "stopped by SIGTERM" if isinstance(exc, Terminated) else "interrupted"
        done = getattr(exc, "done", None)  # a tree transfer's count, set where it was stopped
        render.error(f"{what}; {done + ', ' if done else ''}nothing half-written was left behind (run the command again to finish)",
                     code=code)  # fmt: skip
    except (BrokenPipeError, OutputClosed):
        # the reader (e.g. `| head`) went away; that is not our failure, and coreutils stop quietly too
        code = 0
    except Exception as exc:  # a bug: still one line, redacted; the traceback only with --debug
        from s3safe.storage.errors import escaped

        if (told := escaped(exc)) is not None:  # a service or network error a translation missed
            code = exit_code_for(told)
            render.error(str(told), code=code)
        else:
            code = 1
            render.error(f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for details)", code=code)
        if "--debug" in argv:
            import traceback

            render.block(traceback.format_exc(), err=True)
    try:
        render.out.flush()
    except (BrokenPipeError, OutputClosed):
        pass
    if went_on_without_reader():
        render.warn("standard output was closed during the run (its reader went away): the run went on to the end, "
                    "but result lines after that point were not shown")  # fmt: skip
    return code
