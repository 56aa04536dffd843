"""`*` and `?` wildcards for isoneof/isnotoneof lists: `*` any run of characters, `?` exactly one.

The match is on the whole text, in O(len(pattern) x len(text)) at worst and usually linear (the
classic greedy algorithm that backtracks only to the last `*`), so no pattern can make it slow.
Callers casefold both sides for case-insensitive matching.
"""

from __future__ import annotations


def has_wildcards(pattern: str) -> bool:
    return "*" in pattern or "?" in pattern


def wildcard_match(pattern: str, text: str) -> bool:
    p = t = 0
    star = -1  # position in pattern of the last '*' seen
    resume = 0  # position in text where that '*' is retried from
    np, nt = len(pattern), len(text)
    while t < nt:
        if p < np and (pattern[p] == "?" or pattern[p] == text[t]) and pattern[p] != "*":
            p += 1
            t += 1
        elif p < np and pattern[p] == "*":
            star, resume = p, t
            p += 1
        elif star >= 0:
            resume += 1
            p, t = star + 1, resume
        else:
            return False
    while p < np and pattern[p] == "*":
        p += 1
    return p == np
