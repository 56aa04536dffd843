"""`--where` object selection now lives in transfer/where.py (the transfer engine uses it, and transfer/ may
not import ops/); this name stays for existing imports."""

from s3safe.transfer.where import ObjectFilter, compile_s3_where

__all__ = ["ObjectFilter", "compile_s3_where"]
