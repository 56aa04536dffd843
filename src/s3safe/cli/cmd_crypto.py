"""keygen, encrypt and decrypt: client-side encryption of local files, no S3 involved."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from s3safe.cli.app import App
from s3safe.cli.crypto_options import passphrase_file_option, prompt_or_none
from s3safe.cli.numbers import WHOLE
from s3safe.cli.options import make_gate, object_filter, where_option

pass_app = click.make_pass_decorator(App)


def _passphrase(passphrase_file: str | None, *, confirm: bool, purpose: str = "passphrase") -> Callable[[], str]:
    from s3safe.crypto import keys

    return lambda: keys.resolve_passphrase(
        passphrase_file=passphrase_file, prompt=prompt_or_none(), confirm=confirm, purpose=purpose
    )


@click.command()
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Identity file (default: identity.txt in the config dir).")
@click.option("--protect", is_flag=True, help="Encrypt the identity file with a passphrase (age scrypt).")
@passphrase_file_option("Read that passphrase from FILE (else S3SAFE_PASSPHRASE or a prompt).")
@click.option("--force", is_flag=True, help="Replace an existing identity file.")
@click.option("--pq", "post_quantum", is_flag=True, help="Post-quantum hybrid key (ML-KEM-768 + X25519, age >= 1.3 reads it).")
@pass_app
def keygen(app: App, /, output: Path | None, protect: bool, passphrase_file: str | None, force: bool, post_quantum: bool) -> None:
    """Create an age identity (0600) and print its public key (the recipient to encrypt to)."""
    from s3safe.ops.local_crypto import keygen as make

    secret = _passphrase(passphrase_file, confirm=True, purpose="identity file passphrase") if protect else None
    pair = make(output, passphrase=secret, overwrite=force, post_quantum=post_quantum)
    protected = ", passphrase-protected" if pair.protected else ""
    app.render.record(pair.to_dict(), f"wrote identity {pair.path} (mode 0600{protected}); keep it safe and backed up")
    app.render.info(f"public key (recipient): {pair.recipient}")


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--to", "fmt", type=click.Choice(["age", "aescrypt"]), default="age", show_default=True, help="Format.")
@click.option("-r", "--recipient", multiple=True, metavar="age1…", help="age recipient, repeatable (else a passphrase).")
@click.option("-R", "--recipients-file", multiple=True, metavar="FILE", help="File of age recipients, repeatable.")
@passphrase_file_option("Read the passphrase from FILE (else S3SAFE_PASSPHRASE or a prompt).")
@click.option("-a", "--armor", is_flag=True, help="age: write PEM-style ASCII armor.")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output file (one input) or existing folder.")
@click.option("--force", is_flag=True, help="Replace existing output files.")
@pass_app
def encrypt(
    app: App, /, files: tuple[Path, ...], fmt: str, recipient: tuple[str, ...], recipients_file: tuple[str, ...],
    passphrase_file: str | None, armor: bool, output: Path | None, force: bool,
) -> None:  # fmt: skip
    """Encrypt local files to FILE.age (age) or FILE.aes (AES Crypt v3)."""
    from s3safe.crypto import keys
    from s3safe.ops.local_crypto import encrypt_files

    recipients = keys.load_recipients(recipient, recipients_file) if (recipient or recipients_file) else []
    results = encrypt_files(list(files), fmt=fmt, recipients=recipients, passphrase=_passphrase(passphrase_file, confirm=True),
                            output=output, armor=armor, overwrite=force)  # fmt: skip
    app.actions(results, noun="file")


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("-i", "--identity", multiple=True, metavar="FILE", help="age identity file (env S3SAFE_IDENTITY_FILE; default: keygen's identity.txt), repeatable.")
@passphrase_file_option("Read the passphrase from FILE (else S3SAFE_PASSPHRASE or a prompt).")
@click.option("-o", "--output", type=click.Path(path_type=Path), help="Output file (one input) or existing folder.")
@click.option("--force", is_flag=True, help="Replace existing output files.")
@click.option("--max-work-factor", type=WHOLE, metavar="N",
              help="Highest scrypt work factor an age passphrase file may ask for (default and maximum 22 = 4 GiB; lower it for files you do not trust).")
@pass_app
def decrypt(
    app: App, /, files: tuple[Path, ...], identity: tuple[str, ...], passphrase_file: str | None, output: Path | None, force: bool,
    max_work_factor: int | None,
) -> None:
    """Decrypt age files and AES Crypt files (v0–v3, as made by AES Crypt and S3Express -le); format is detected."""
    from s3safe.crypto import keys
    from s3safe.ops.local_crypto import decrypt_files

    def identities() -> list[str]:
        return keys.load_identities(identity, passphrase=_passphrase(None, confirm=False, purpose="identity file passphrase"))

    results = decrypt_files(list(files), identities=identities, passphrase=_passphrase(passphrase_file, confirm=False),
                            output=output, overwrite=force, max_work_factor=max_work_factor)  # fmt: skip
    app.actions(results, noun="file")


@click.command()
@click.argument("url")
@click.option("-r", "--recursive", is_flag=True, help="Every object under the prefix.")
@click.option("--to", "fmt", type=click.Choice(["age"]), default="age", show_default=True, help="Target format.")
@click.option("--recipient", multiple=True, metavar="age1…", help="age recipient, repeatable.")
@click.option("--recipients-file", multiple=True, metavar="FILE", help="File of age recipients, repeatable.")
@passphrase_file_option("The AES Crypt passphrase (else S3SAFE_PASSPHRASE or a prompt).")
@click.option("--digest-key-file", metavar="FILE", help="Key for plaintext digests (default: in the config dir).")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@where_option
@pass_app
def reencrypt(
    app: App, /, url: str, recursive: bool, fmt: str, recipient: tuple[str, ...], recipients_file: tuple[str, ...],
    passphrase_file: str | None, digest_key_file: str | None, dry_run: bool, where: str | None,
) -> None:  # fmt: skip
    """Migrate AES Crypt objects (s3safe or S3Express -le uploads) to age, in place, verified."""
    from s3safe.core.errors import UsageError
    from s3safe.core.locations import parse_s3_url
    from s3safe.ops.reencrypt import reencrypt as convert
    from s3safe.transfer.encryption import decryption_for, encryption_for

    if not (recipient or recipients_file):
        raise UsageError(
            "reencrypt needs the age recipients to encrypt to", hint="pass --recipient age1… or --recipients-file FILE"
        )
    target = parse_s3_url(url)
    to = encryption_for(
        fmt, bucket=target.bucket, recipients=recipient, recipients_files=recipients_file, digest_key_file=digest_key_file
    )
    assert to is not None  # recipients were given
    old = decryption_for(passphrase_file=passphrase_file, prompt=prompt_or_none())
    with object_filter(app, where) as selected:
        results = convert(
            app.conn, target, to=to, decryption=old, recursive=recursive, gate=make_gate(dry_run, None), where=selected
        )
        app.actions(results)
