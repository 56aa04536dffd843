"""One or two examples under every command's --help (as httpie and git show them), kept in one table.

A command added without an entry here fails tests/cli/test_help.py, so --help never loses its examples.
"""

from __future__ import annotations

import click

EXAMPLES: dict[str, tuple[str, ...]] = {
    "": ("s3safe ls", "s3safe put -r ./site s3://backups/site/ --only-diff"),
    "acl": ("s3safe acl get s3://legacy-bucket/file.txt",),
    "acl get": ("s3safe acl get s3://legacy-bucket/file.txt",),
    "acl set": ("s3safe acl set private -r --dry-run s3://legacy-bucket/",),
    "audit": ("s3safe audit s3://b1 s3://b2", "s3safe audit --all --objects --fail-on medium"),
    "auth": ("s3safe auth save prod", "s3safe auth use prod"),
    "auth credential-process": ("s3safe auth credential-process prod",),
    "auth export-credential-process": ("s3safe auth export-credential-process prod >> ~/.aws/config",),
    "auth list": ("s3safe auth list",),
    "auth rm": ("s3safe auth rm ci", "s3safe auth rm --all"),
    "auth save": ("s3safe auth save prod", "s3safe auth save tmp --from-env --with-token"),
    "auth use": ("s3safe auth use prod", "s3safe auth use --clear"),
    "completion": ("s3safe completion bash > ~/.local/share/bash-completion/completions/s3safe",),
    "config": ("s3safe config show", "s3safe config set region eu-west-1"),
    "config set": ("s3safe config set region eu-west-1",),
    "config show": ("s3safe config show",),
    "config unset": ("s3safe config unset region",),
    "cp": ("s3safe cp s3://src/a.bin s3://dst/archive/a.bin", "s3safe cp -r --dry-run s3://src/2026/ s3://dst/2026/"),
    "decrypt": ("s3safe decrypt report.pdf.age", "s3safe decrypt --identity key.txt report.pdf.age"),
    "encrypt": ("s3safe encrypt -r age1... report.pdf", "s3safe encrypt --to aescrypt report.pdf"),
    "exec": ("s3safe exec nightly.s3safe", "s3safe --json exec --keep-going nightly.s3safe"),
    "get": ("s3safe get s3://backups/docs/report.pdf ./restore/", "s3safe get -r s3://backups/site/ ./site --only-diff"),
    "harden": ("s3safe harden s3://b --dry-run", "s3safe harden s3://b --versioning"),
    "info": ("s3safe info s3://backups",),
    "inventory": ("s3safe inventory status s3://lake",),
    "inventory enable": ("s3safe inventory enable s3://lake --destination s3://lake-inventory/",),
    "inventory status": ("s3safe inventory status s3://lake",),
    "jobs": ("s3safe jobs ls",),
    "jobs ls": ("s3safe jobs ls",),
    "jobs report": ("s3safe jobs report JOB_ID",),
    "jobs status": ("s3safe jobs status JOB_ID",),
    "keygen": ("s3safe keygen", "s3safe keygen --protect --output backup-key.txt"),
    "logging": ("s3safe logging status s3://b",),
    "logging disable": ("s3safe logging disable s3://b",),
    "logging enable": ("s3safe logging enable s3://b --target s3://b-logs/b/ --retain-days 90",),
    "logging status": ("s3safe logging status s3://b",),
    "logs": ("s3safe logs s3://b --show reads --since 7d", "s3safe logs --local ./downloaded-logs/ --show top-ips"),
    "ls": ("s3safe ls s3://backups/2026/", "s3safe ls -r --long --summary s3://backups"),
    "mb": ("s3safe mb s3://new-backups", "s3safe mb --object-lock s3://immutable-backups"),
    "meta": ("s3safe meta get s3://backups/docs/report.pdf",),
    "meta get": ("s3safe meta get s3://backups/docs/report.pdf",),
    "meta set": ("s3safe meta set s3://backups/docs/report.pdf --set owner=ops",),
    "mkdir": ("s3safe mkdir s3://backups/reports/",),
    "policy": ("s3safe policy show s3://b", "s3safe policy apply s3://b --require-tls --dry-run"),
    "policy apply": ("s3safe policy apply s3://b --private-acl-only --require-sse --require-tls --dry-run",),
    "policy remove": ("s3safe policy remove s3://b --sid S3SafeDenyInsecureTransport",),
    "policy show": ("s3safe policy show s3://b",),
    "policy simulate": ("s3safe policy simulate s3://b --action s3:GetObject --key k --principal anonymous",),
    "presign": ("s3safe presign s3://b/report.pdf --expires 15m", "s3safe presign s3://b/in/ --method post --max-size 10MB"),
    "put": ("s3safe put report.pdf s3://backups/docs/", "s3safe put -r ./site s3://backups/site/ --only-diff --purge --dry-run"),
    "rb": ("s3safe rb s3://old-backups", "s3safe rb --force --dry-run s3://old-backups"),
    "reencrypt": ("s3safe reencrypt -r --recipient age1... --dry-run s3://backups/",),
    "restore": ("s3safe restore --days 7 s3://archive/2019/db.dump", "s3safe restore -r --days 3 --tier Bulk s3://archive/2019/"),
    "revert": ("s3safe revert -r --as-of 2026-12-01T18:00:00Z --dry-run s3://backups/site/",),
    "rm": ("s3safe rm s3://backups/old.log", "s3safe rm -r --max-delete 1000 --dry-run s3://backups/tmp/"),
    "shell": ("s3safe shell",),
    "sync": ("s3safe sync ./site s3://backups/site/", "s3safe sync s3://backups/site/ ./site --purge --dry-run"),
    "trail": ("s3safe trail status s3://b",),
    "trail disable": ("s3safe trail disable s3://b",),
    "trail enable": ("s3safe trail enable s3://b --target s3://ct-logs/trails/ --dry-run",),
    "trail status": ("s3safe trail status s3://b",),
    "undelete": ("s3safe undelete -r --dry-run s3://backups/site/",),
    "uploads": ("s3safe uploads ls --older-than 7d s3://backups",),
    "uploads abort": ("s3safe uploads abort --older-than 7d --dry-run s3://backups",),
    "uploads ls": ("s3safe uploads ls --older-than 7d s3://backups",),
}


def epilog_for(path: str) -> str | None:
    """The examples paragraph of one command ('' is the top level); \\b keeps click from re-wrapping it."""
    lines = EXAMPLES.get(path)
    if not lines:
        return None
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in lines)


def attach_examples(command: click.Command, path: str) -> None:
    """Give a command (and a group's subcommands) its examples, unless it already has an epilog."""
    if command.epilog is None:
        command.epilog = epilog_for(path)
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            attach_examples(sub, f"{path} {name}".strip())
