"""Client-side encryption options of put, get and sync, and the interactive prompt they may use."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from s3safe.cli.app import App
from s3safe.cli.numbers import WHOLE
from s3safe.core.errors import UsageError

F = TypeVar("F", bound=Callable[..., Any])

ENCRYPT_KEYS = ("encrypt", "recipient", "recipients_file")
DECRYPT_KEYS = ("identity", "no_decrypt", "allow_unencrypted", "allow_unsigned", "max_work_factor")
SHARED_KEYS = ("passphrase_file", "digest_key_file")
CRYPTO_KEYS = ENCRYPT_KEYS + DECRYPT_KEYS + SHARED_KEYS

def read_passphrase_file(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
    """A --passphrase-file is read as soon as it is parsed: its passphrase is then registered for masking before
    the command's first output line (a -vv request line, an error naming a key that holds it), not only when the
    first encrypted object needs it, and a bad file is one line (exit 4) before anything is sent. Only in a real
    run: exec's pre-check parses each line without running the main command (no App yet) and reads no file."""
    if value is not None and ctx.find_object(App) is not None:
        from s3safe.crypto.keys import passphrase_from_file

        passphrase_from_file(value)
    return value


def passphrase_file_option(help_text: str) -> Callable[[F], F]:
    return click.option("--passphrase-file", metavar="FILE", callback=read_passphrase_file, help=help_text)


_encrypt = [
    click.option("--encrypt", type=click.Choice(["age", "aescrypt"]), help="Encrypt client-side before upload."),
    click.option("--recipient", multiple=True, metavar="age1…", help="age recipient (public key), repeatable; implies --encrypt age."),
    click.option("--recipients-file", multiple=True, metavar="FILE", help="File of age recipients, repeatable."),
]  # fmt: skip
_decrypt = [
    click.option("--identity", multiple=True, metavar="FILE", help="age identity file for decryption (env S3SAFE_IDENTITY_FILE; default: keygen's identity.txt)."),
    click.option("--no-decrypt", is_flag=True, help="Keep client-encrypted objects as stored (ciphertext)."),
    click.option("--allow-unencrypted", is_flag=True,
                 help="With decryption keys: also restore objects stored without client-side encryption (refused by default)."),
    click.option("--allow-unsigned", is_flag=True,
                 help="Also restore encrypted objects without a plaintext digest under your digest key (refused by default)."),
    click.option("--max-work-factor", type=WHOLE, metavar="N",
                 help="Open age passphrase objects with a scrypt work factor up to N (default 18, what s3safe writes; max 22 = 4 GiB)."),
]  # fmt: skip
_shared = [
    passphrase_file_option("Read the passphrase from FILE (else S3SAFE_PASSPHRASE, keyring, prompt)."),
    click.option("--digest-key-file", metavar="FILE", help="Key for plaintext digests with age recipients (default: in the config dir)."),
]  # fmt: skip


def crypto_options(*, upload: bool, download: bool) -> Callable[[F], F]:
    chosen = (_encrypt if upload else []) + (_decrypt if download else []) + _shared

    def wrap(func: F) -> F:
        for decorator in reversed(chosen):
            func = decorator(func)
        return func

    return wrap


def pop_crypto(values: dict[str, Any]) -> dict[str, Any]:
    return {k: values.pop(k) for k in CRYPTO_KEYS if k in values}


def prompt_or_none() -> Callable[[str], str] | None:
    """A hidden-input prompt when a person is at the terminal; None in scripts (so they fail, not hang)."""
    if sys.stdin is None or not sys.stdin.isatty():  # None: started with fd 0 closed
        return None
    return lambda message: str(click.prompt(message.rstrip(": "), hide_input=True, err=True))


def encryption_from(values: dict[str, Any], *, bucket: str) -> Any:
    from s3safe.transfer.encryption import encryption_for

    return encryption_for(values.get("encrypt"), bucket=bucket, recipients=values.get("recipient") or (),
                          recipients_files=values.get("recipients_file") or (), passphrase_file=values.get("passphrase_file"),
                          digest_key_file=values.get("digest_key_file"), prompt=prompt_or_none())  # fmt: skip


def decryption_from(values: dict[str, Any]) -> Any:
    from s3safe.transfer.encryption import decryption_for

    return decryption_for(identity_files=values.get("identity") or (), passphrase_file=values.get("passphrase_file"),
                          digest_key_file=values.get("digest_key_file"), prompt=prompt_or_none(),
                          enabled=not values.get("no_decrypt"), allow_unencrypted=bool(values.get("allow_unencrypted")),
                          allow_unsigned=bool(values.get("allow_unsigned")),
                          max_work_factor=values.get("max_work_factor"))  # fmt: skip


def refuse(values: dict[str, Any], keys: tuple[str, ...], why: str) -> None:
    given = [k for k in keys if values.get(k)]
    if given:
        raise UsageError(", ".join("--" + k.replace("_", "-") for k in given) + f" {why}")
