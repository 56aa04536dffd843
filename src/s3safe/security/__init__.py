"""Bucket policies, hardening, logging and pre-signed URLs."""
