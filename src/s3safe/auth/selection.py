"""Which saved profile (if any) a command's requests are signed with.

In order: `--auth NAME` (set by the CLI through `choose`), `$S3SAFE_AUTH`, then the default saved with
`auth use` — the last one only when no AWS profile was asked for (`--profile`, `$AWS_PROFILE`, or the
config file's `profile`), since naming an AWS profile is an explicit choice of the AWS credential chain.
`none` for `--auth` / `$S3SAFE_AUTH` ignores the saved default for one run.

The choice belongs to the run (core/context.py): the CLI sets it once per command in the process's run;
a program running two operations sets each one's inside its own `running()` block, and a run that chose
nothing uses the process's choice. Worker threads see their run's choice through the library's pools
(core.context.ContextPool), which carry the run into them.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from s3safe.auth.profiles import RESERVED_NAMES, validate_name
from s3safe.auth.vault import PassphraseSource
from s3safe.core import context

ENV_AUTH = "S3SAFE_AUTH"


@dataclass(frozen=True, slots=True)
class AuthChoice:
    name: str | None = None  # from --auth
    passphrase: PassphraseSource | None = None  # how to unlock the encrypted file, if the profile lives there


_lock = threading.Lock()
_choice = AuthChoice()  # the process's run (context.ROOT)
_choices: weakref.WeakKeyDictionary[context.RunContext, AuthChoice] = weakref.WeakKeyDictionary()


def choose(name: str | None, *, passphrase: PassphraseSource | None = None) -> None:
    """Record `--auth NAME` (None: not given) and the caller's passphrase source for the current run."""
    global _choice
    if name is not None and name.lower() not in RESERVED_NAMES:
        validate_name(name)
    choice = AuthChoice(name, passphrase)
    run = context.current()
    with _lock:
        if run is context.ROOT:
            _choice = choice
        else:
            _choices[run] = choice


def current() -> AuthChoice:
    run = context.current()
    with _lock:
        return _choice if run is context.ROOT else _choices.get(run, _choice)


def selected_profile(
    *, aws_profile: str | None, environ: Mapping[str, str] | None = None, directory: Path | None = None
) -> str | None:
    """The saved profile to sign with, or None for the plain AWS credential chain."""
    environ = os.environ if environ is None else environ
    explicit = current().name or environ.get(ENV_AUTH) or None
    if explicit is not None:
        return None if explicit.lower() in RESERVED_NAMES else validate_name(explicit)
    if aws_profile or environ.get("AWS_PROFILE"):
        return None
    from s3safe.auth.index import INDEX_NAME, load_index

    if directory is None:
        from s3safe.core.settings import config_dir

        directory = config_dir(environ)
    return load_index(directory / INDEX_NAME).default
