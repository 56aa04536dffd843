"""Security audit checks and reports (built by a later issue)."""
