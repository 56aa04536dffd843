"""Client-side encryption formats, streamed in constant memory.

* `s3safe.crypto.age` — age v1 (X25519 recipients, scrypt passphrases, armor); interoperable with the age CLI.
* `s3safe.crypto.aescrypt` — AES Crypt: reads versions 0–3 (S3Express ``-le`` backups), writes version 3.
* `s3safe.crypto.keys` — identity files, recipient lists, passphrase sources (never argv, never a prompt here).
* `s3safe.crypto.digest` — keyed plaintext digests for change detection, and `detect_format`.

Submodules are imported on demand (start-up time matters for the CLI).
"""
