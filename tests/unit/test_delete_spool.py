"""The delete spool gives back every key it was given, byte for byte, in order."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from s3safe.transfer.tree_run import DeleteSpool

# every code point, lone surrogates included (undecodable file names come back from os as surrogates)
KEYS = st.lists(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF)), max_size=20)


@given(KEYS)
def test_every_key_round_trips(keys: list[str]) -> None:
    spool = DeleteSpool()
    try:
        for key in keys:
            spool.add(key)
        assert list(spool) == keys and spool.count == len(keys)
        assert list(spool) == keys  # and again: iteration starts over
    finally:
        spool.close()


def test_the_keys_that_were_mangled() -> None:
    keys = ["docs\\new.txt", "a\\\\n", "cr\rlf\r\n", "trailing\\", "\\n", "\n", "undecodable-\udcff"]
    spool = DeleteSpool()
    try:
        for key in keys:
            spool.add(key)
        assert list(spool) == keys
    finally:
        spool.close()
