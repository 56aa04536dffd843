"""The library functions behind each command: one call per command, no printing, no prompting."""
