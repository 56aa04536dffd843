"""auth save|use|list|rm, export-credential-process, credential-process; and `--auth` for every command.

Secrets are read from a hidden prompt or from standard input, never from the command line.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from s3safe.cli.app import App
from s3safe.core.errors import AccessDeniedError, S3SafeError, UsageError

if TYPE_CHECKING:
    from s3safe.auth.profiles import Credentials
    from s3safe.auth.store import ProfileStore
    from s3safe.auth.vault import PassphraseSource
    from s3safe.cli.render import Renderer

pass_app = click.make_pass_decorator(App)


def passphrase_file_callback(ctx: click.Context, param: click.Parameter, value: Path | None) -> Path | None:
    """Read the file as soon as it is parsed (see crypto_options.read_passphrase_file: masking from the first output
    line), its problems named for the credentials file they were to unlock."""
    if value is not None and ctx.find_object(App) is not None:
        from s3safe.crypto.keys import PassphraseSourceError, passphrase_from_file

        try:
            passphrase_from_file(value)
        except PassphraseSourceError as exc:
            raise _cannot_unlock(exc) from None
    return value


def _cannot_unlock(exc: S3SafeError) -> AccessDeniedError:
    """Which file the passphrase was for, beside which source could not give it."""
    return AccessDeniedError(f"cannot unlock the s3safe credentials file {_vault_path()}: {exc.message}", hint=exc.hint)


PASSPHRASE_FILE = click.option(
    "--passphrase-file", type=click.Path(path_type=Path, readable=False), metavar="FILE", callback=passphrase_file_callback,
    help="Passphrase of the encrypted credentials file (else $S3SAFE_PASSPHRASE, else a prompt).",
)  # fmt: skip
MAX_STDIN = 64 * 1024


def passphrase_source(passphrase_file: Path | None = None) -> PassphraseSource:
    """--passphrase-file, $S3SAFE_PASSPHRASE, or a hidden prompt on a terminal. A new credentials file (the first
    profile saved without a usable keyring) is offered first, then its passphrase is asked twice. Every failure on
    this path is one line and exit 4 (credentials), the way a cron job meets it."""

    def get(*, new: bool) -> str:
        from s3safe.crypto.keys import ENV_PASSPHRASE, PassphraseSourceError, resolve_passphrase

        def prompt(message: str) -> str:
            return str(click.prompt(message.rstrip(": "), hide_input=True, err=True))

        interactive = sys.stdin.isatty() and sys.stderr.isatty()
        given = passphrase_file is not None or ENV_PASSPHRASE in os.environ
        vault = _vault_path()
        if not given and not interactive:
            if new:
                raise AccessDeniedError(
                    f"no usable OS keyring, and no passphrase to create the encrypted credentials file {vault}",
                    hint=f"set {ENV_PASSPHRASE} or pass --passphrase-file FILE (mode 0600), or run 'auth save' at a terminal",
                )
            raise AccessDeniedError(
                f"the s3safe credentials file {vault} is locked and no passphrase was given",
                hint=f"set {ENV_PASSPHRASE}, pass --passphrase-file (auth commands), or run interactively",
            )
        if new and not given:
            question = (f"No usable OS keyring: keep saved profiles in the encrypted file {vault}, under a passphrase "
                        f"you choose now (scripts give it with {ENV_PASSPHRASE} or --passphrase-file)?")  # fmt: skip
            if not click.confirm(question, default=True, err=True):
                raise click.Abort
        try:
            return resolve_passphrase(passphrase_file=passphrase_file, prompt=prompt if interactive else None, confirm=new,
                                      purpose="new passphrase of the s3safe credentials file" if new
                                      else "passphrase of the s3safe credentials file")  # fmt: skip
        except PassphraseSourceError as exc:
            raise _cannot_unlock(exc) from None

    return get


def _vault_path() -> Path:
    from s3safe.auth.vault import VAULT_NAME
    from s3safe.core.settings import config_dir

    return config_dir() / VAULT_NAME


def configure_auth(name: str | None) -> None:
    """Called by the main command: `--auth NAME`, and how to unlock the encrypted file if needed."""
    from s3safe.auth.selection import choose

    choose(name, passphrase=passphrase_source())


def _store(passphrase_file: Path | None = None) -> ProfileStore:
    from s3safe.auth.store import ProfileStore

    return ProfileStore(passphrase=passphrase_source(passphrase_file))


@click.group()
def auth() -> None:
    """Named credential profiles, kept in the OS keyring (else an age-encrypted file)."""


def _read_credentials(*, from_env: bool, with_token: bool) -> Credentials:
    from s3safe.auth.profiles import make_credentials

    if from_env:
        key_id, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
        if not key_id or not secret:
            raise UsageError("--from-env needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY to be set")
        token = os.environ.get("AWS_SESSION_TOKEN") if with_token else None
        if with_token and not token:
            raise UsageError("--with-token needs AWS_SESSION_TOKEN to be set", hint="or leave out --with-token for long-term keys")
        return make_credentials(key_id, secret, session_token=token)
    if sys.stdin.isatty():
        key_id = click.prompt("Access key ID", hide_input=True, err=True)
        secret = click.prompt("Secret access key", hide_input=True, err=True)
        token = click.prompt("Session token", hide_input=True, err=True) if with_token else None
        return make_credentials(str(key_id), str(secret), session_token=str(token) if token else None)
    data = sys.stdin.read(MAX_STDIN + 1)
    if len(data) > MAX_STDIN:
        raise UsageError("standard input is too large for credentials")
    lines = [line.strip() for line in data.splitlines() if line.strip()]
    if len(lines) < 2:
        raise UsageError("expected the access key id and the secret access key on standard input, one per line")
    if len(lines) > (3 if with_token else 2):
        raise UsageError("unexpected extra lines on standard input", hint="a session token (third line) needs --with-token")
    if with_token and len(lines) < 3:
        raise UsageError("--with-token needs the session token as the third line of standard input")
    return make_credentials(lines[0], lines[1], session_token=lines[2] if len(lines) > 2 else None)


@auth.command("save", context_settings={"allow_extra_args": True})  # extra words are refused below, unquoted
@click.argument("name")
@click.option("--store", type=click.Choice(["auto", "keyring", "file"]), default="auto", show_default=True,
              help="Where the secret goes: the OS keyring, the encrypted file, or the keyring when usable.")  # fmt: skip
@click.option("--from-env", is_flag=True, help="Take the keys from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY.")
@click.option("--with-token", is_flag=True, help="Also store a session token (prompted, third stdin line, or AWS_SESSION_TOKEN).")
@click.option("--force", is_flag=True, help="Replace a profile of the same name.")
@PASSPHRASE_FILE
@pass_app
def auth_save(
    app: App,
    name: str,
    store: str,
    from_env: bool,
    with_token: bool,
    force: bool,
    passphrase_file: Path | None,
) -> None:
    """Save a profile: prompts for the keys (hidden), or reads them from stdin, one per line.

    The keys are never accepted as arguments. Without a usable OS keyring they go to an age-encrypted
    file in the config directory, protected by a passphrase.
    """
    from s3safe.auth.profiles import validate_name

    if click.get_current_context().args:  # refused without quoting them: they may well be the keys
        raise UsageError(
            "keys are never taken from the command line (other users can see it, and shells keep it in history)",
            hint="run 'auth save NAME' and type them at the prompt, or pipe them on stdin, one per line",
        )
    validate_name(name)
    creds = _read_credentials(from_env=from_env, with_token=with_token)
    result = _store(passphrase_file).save(name, creds, store=store, replace=force)
    if result.fallback_reason:
        app.render.warn(f"{result.fallback_reason}: the secret is stored in the age-encrypted file {result.profile.location}")
    verb = "replaced" if result.replaced else "saved"
    app.render.record({**result.profile.to_dict(), "action": verb},
                      f"{verb} profile {name} (key {result.profile.key_id_masked}) in {result.profile.location}")  # fmt: skip
    if not result.profile.default:
        app.render.info(f"use it with 's3safe --auth {name} …', or make it the default with 's3safe auth use {name}'")


@auth.command("use")
@click.argument("name", required=False)
@click.option("--clear", is_flag=True, help="No default profile: the AWS credential chain applies again.")
@pass_app
def auth_use(app: App, name: str | None, clear: bool) -> None:
    """Make a saved profile the default for every command (unless --profile or --auth says otherwise)."""
    if clear == (name is not None):
        raise UsageError("give a profile NAME or --clear")
    info = _store().use(name)
    if info is None:
        app.render.record({"type": "auth_default", "name": None}, "no default profile: the AWS credential chain applies")
    else:
        app.render.record({"type": "auth_default", "name": info.name}, f"default profile: {info.name} (key {info.key_id_masked})")


@auth.command("list")
@pass_app
def auth_list(app: App) -> None:
    """Saved profiles: name, key id (last 4 characters), where the secret is kept. Never a secret."""
    profiles = _store().profiles()
    r = app.render
    if r.json_mode:
        for info in profiles:
            r.record(info.to_dict(), None)
        return
    if not profiles:
        r.info("no saved profiles; add one with 's3safe auth save NAME'")
        return
    rows = [["*" if p.default else "", p.name, p.key_id_masked, p.store, p.location, _saved_at(r, p.saved_at)] for p in profiles]
    r.table(["default", "name", "key id", "store", "location", "saved"], rows)


def _saved_at(r: Renderer, text: str) -> str:
    """The index's ISO 8601 UTC time in the run's time format (local with offset, or --utc)."""
    from datetime import datetime

    try:
        return r.time(datetime.fromisoformat(text))
    except ValueError:  # an index written by hand: shown as it is
        return text


@auth.command("rm")
@click.argument("name", required=False)
@click.option("--all", "all_", is_flag=True, help="Remove every saved profile, and the encrypted file.")
@PASSPHRASE_FILE
@pass_app
def auth_rm(app: App, name: str | None, all_: bool, passphrase_file: Path | None) -> None:
    """Remove a saved profile (its keyring entry or its part of the encrypted file), or --all."""
    if all_ == (name is not None):
        raise UsageError("give a profile NAME or --all")
    store = _store(passphrase_file)
    if name is not None:
        info = store.remove(name)
        app.render.record({**info.to_dict(), "action": "removed"}, f"removed profile {info.name}")
        return
    removed, problems = store.remove_all()
    for info in removed:
        app.render.record({**info.to_dict(), "action": "removed"}, f"removed profile {info.name}")
    for problem in problems:
        app.render.warn(problem)
    app.render.info(
        f"{len(removed)} profile(s) removed", data={"type": "summary", "removed": len(removed), "failed": len(problems)}
    )
    if problems:
        from s3safe.core.errors import PartialFailure

        raise PartialFailure(f"{len(problems)} profile(s) could not be removed", failed=len(problems), succeeded=len(removed))


@auth.command("export-credential-process")
@click.argument("name")
@PASSPHRASE_FILE
@pass_app
def auth_export(app: App, name: str, passphrase_file: Path | None) -> None:
    """Print the `[profile NAME]` section whose `credential_process` line lets other AWS tools use a saved profile.

    Safe to append to ~/.aws/config: the section header comes with the line (a bare line would join whatever
    section came last). With --passphrase-file the line names that file, so that a profile kept in the
    encrypted file can be unlocked without a prompt.
    """
    from s3safe.auth.store import credential_process_line, default_program

    _store().info(name)  # NotFoundError for a profile that was never saved
    line = credential_process_line(name, program=default_program(), passphrase_file=passphrase_file)
    section = "[default]" if name == "default" else f"[profile {name}]"  # ~/.aws/config spells the default so
    # the blank line first: a config file without a final newline would otherwise swallow the header
    data = {"type": "credential_process", "name": name, "section": section, "line": line}
    for text in ("", section, line) if not app.render.json_mode else (None,):  # JSON: one record
        app.render.record(data, text)


@auth.command("credential-process")
@click.argument("name")
@PASSPHRASE_FILE
@pass_app
def auth_credential_process(app: App, name: str, passphrase_file: Path | None) -> None:
    """Print a profile's credentials as the JSON an AWS SDK expects from `credential_process`.

    This prints the secret on purpose, for the calling SDK: it is what the exported line runs.
    """
    creds = _store(passphrase_file).load(name)
    # revealed, not recorded: redaction would mask exactly what the SDK needs
    app.render.reveal(json.dumps(creds.credential_process_output()))
