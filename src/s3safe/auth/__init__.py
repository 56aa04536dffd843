"""Named credential profiles: secrets in the OS keyring, else in an age-encrypted file; never plaintext.

Modules: `profiles` (names, credentials, masking), `index` (the non-secret list of profiles and the
default), `backends` (OS keyring), `vault` (age scrypt-encrypted file), `store` (the facade the CLI
calls), `selection` (which profile a command uses) and `provider` (hands it to storage/session.py).
This package imports neither keyring nor the crypto code until a secret is actually read or written.
"""
