"""The --where condition language (built by a later issue)."""
