"""Client-side encryption formats (built by a later issue)."""
