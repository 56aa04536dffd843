"""age v1 text layer: strict base64, the header (stanzas + MAC line), and the ASCII armor.

Parsing follows age-encryption.org/v1 and the reference implementation's strictness: canonical unpadded
base64 in the header, body lines of exactly 64 columns except a shorter last one, arguments of visible ASCII,
LF line endings only. Every violation is a `HeaderError` (the caller turns it into IntegrityError).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

INTRO = b"age-encryption.org/v1\n"
VERSION_PREFIX = b"age-encryption.org/"
COLUMNS = 64
BYTES_PER_LINE = 48
MAX_HEADER = 1024 * 1024
ARMOR_BEGIN = b"-----BEGIN AGE ENCRYPTED FILE-----"
ARMOR_END = b"-----END AGE ENCRYPTED FILE-----"
_MAX_WHITESPACE = 1024
_B64_CHARS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


class HeaderError(ValueError):
    """The age header (or armor) is malformed."""


def b64_raw(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def b64_raw_decode(text: bytes) -> bytes:
    """Canonical unpadded standard base64, as age requires; raises HeaderError otherwise."""
    if not _B64_CHARS.issuperset(text) or len(text) % 4 == 1:
        raise HeaderError("invalid base64")
    data = base64.b64decode(text + b"=" * (-len(text) % 4))
    if b64_raw(data) != text:
        raise HeaderError("non-canonical base64")
    return data


@dataclass(frozen=True, slots=True)
class Stanza:
    args: tuple[str, ...]  # args[0] is the stanza type
    body: bytes

    @property
    def type(self) -> str:
        return self.args[0]

    def encode(self) -> bytes:
        out = [b"-> " + " ".join(self.args).encode("ascii") + b"\n"]
        encoded = b64_raw(self.body)
        for i in range(0, len(encoded), COLUMNS):
            out.append(encoded[i : i + COLUMNS] + b"\n")
        if len(encoded) % COLUMNS == 0:  # the body always ends with a short (possibly empty) line
            out.append(b"\n")
        return b"".join(out)


@dataclass(frozen=True, slots=True)
class Header:
    stanzas: tuple[Stanza, ...]
    mac: bytes
    mac_input: bytes  # the header bytes the MAC covers: everything up to and including "---"
    size: int  # bytes of the header including the MAC line's newline


def encode_header_body(stanzas: list[Stanza]) -> bytes:
    """The MAC input: intro line, stanzas and the closing "---" (without the MAC)."""
    return INTRO + b"".join(s.encode() for s in stanzas) + b"---"


def _valid_arg(arg: bytes) -> bool:
    return bool(arg) and all(33 <= c <= 126 for c in arg)


def find_header_end(buf: bytes | bytearray, start: int = 0) -> tuple[int, int]:
    """(end, resume): `end` is the index just past the MAC line's newline, or -1 while the header is incomplete;
    `resume` is where the next search (after more data arrived) may start.

    Only the closing line can start with "---": stanza lines start with "-> ", body lines are base64.
    """
    idx = buf.find(b"\n---", start)
    if idx < 0:
        return -1, max(start, len(buf) - 3)
    end = buf.find(b"\n", idx + 1)
    return (-1, idx) if end < 0 else (end + 1, idx)


def parse_header(data: bytes) -> Header:
    """Parse a complete header (intro through the MAC line's newline)."""
    if not data.startswith(INTRO):
        raise HeaderError("not an age v1 header")
    lines = data[len(INTRO) :].split(b"\n")
    if lines[-1] != b"":
        raise HeaderError("header does not end with a newline")
    lines.pop()
    stanzas: list[Stanza] = []
    offset = len(INTRO)
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(b"---"):
            if i != len(lines) - 1 or not line.startswith(b"--- "):
                raise HeaderError("malformed closing line")
            mac = b64_raw_decode(line[4:])
            if len(mac) != 32:
                raise HeaderError("header MAC has the wrong length")
            return Header(tuple(stanzas), mac, data[: offset + 3], len(data))
        if not line.startswith(b"-> "):
            raise HeaderError("expected a stanza or the closing line")
        args = line[3:].split(b" ")
        if not all(_valid_arg(a) for a in args):
            raise HeaderError("invalid stanza argument")
        offset += len(line) + 1
        i += 1
        body = bytearray()
        while True:
            if i >= len(lines):
                raise HeaderError("stanza body is not terminated")
            body_line = lines[i]
            offset += len(body_line) + 1
            i += 1
            if len(body_line) > COLUMNS:
                raise HeaderError("stanza body line too long")
            body += b64_raw_decode(body_line)
            if len(body_line) < COLUMNS:
                break
        stanzas.append(Stanza(tuple(a.decode("ascii") for a in args), bytes(body)))
    raise HeaderError("header has no closing line")


# -- ASCII armor ---------------------------------------------------------------------------------------


class ArmorDecoder:
    """Push-style decoder of the PEM-like armor (`-----BEGIN AGE ENCRYPTED FILE-----`), reference semantics:
    leading/trailing whitespace up to 1 KiB, LF or CRLF, 64 columns, padded strict base64, nothing after END.
    """

    def __init__(self) -> None:
        self._buffer = bytearray()
        self._state = "begin"  # begin -> data -> end -> trailing
        self._skipped = 0

    def update(self, data: bytes) -> bytes:
        self._buffer += data
        out = bytearray()
        while self._state != "trailing":
            nl = self._buffer.find(b"\n")
            if nl < 0:
                if len(self._buffer) > _MAX_WHITESPACE + COLUMNS:
                    raise HeaderError("armor line too long")
                break
            line = bytes(self._buffer[:nl])
            del self._buffer[: nl + 1]
            out += self._line(line, nl + 1)
        if self._state == "trailing":
            self._trailing(bytes(self._buffer))
            self._buffer.clear()
        return bytes(out)

    def finalize(self) -> bytes:
        out = b""
        if self._state != "trailing" and self._buffer:  # a last line without newline
            line = bytes(self._buffer)
            self._buffer.clear()
            out = self._line(line, len(line))
        if self._state != "trailing":
            raise HeaderError("armor ends before its END line")
        return out

    def _trailing(self, data: bytes) -> None:
        self._skipped += len(data)
        if data.strip():
            raise HeaderError("data after the armor END line")
        if self._skipped >= _MAX_WHITESPACE:
            raise HeaderError("too much whitespace after the armor")

    def _line(self, raw: bytes, consumed: int) -> bytes:
        line = raw.removesuffix(b"\r")
        if self._state == "begin":
            if not line.strip():
                self._skipped += consumed
                if self._skipped > _MAX_WHITESPACE:
                    raise HeaderError("too much whitespace before the armor")
                return b""
            if line != ARMOR_BEGIN:
                raise HeaderError("invalid armor BEGIN line")
            self._state = "data"
            return b""
        if self._state == "end" or line == ARMOR_END:
            if line != ARMOR_END:
                raise HeaderError("invalid armor END line")
            self._state = "trailing"
            self._skipped = 0
            return b""
        if not line:  # age >= 1.3: a full last line is followed by END directly, never by an empty line
            raise HeaderError("empty line inside the armor")
        if len(line) > COLUMNS:
            raise HeaderError("armor line longer than 64 columns")
        try:
            data = base64.b64decode(line, validate=True)
        except binascii.Error:
            raise HeaderError("invalid base64 in armor") from None
        if base64.b64encode(data) != line:
            raise HeaderError("non-canonical base64 in armor")
        if len(data) < BYTES_PER_LINE:
            self._state = "end"
        return data


class ArmorEncoder:
    """Push-style armor writer matching the reference output (64 columns, LF, padded base64)."""

    def __init__(self) -> None:
        self._pending = bytearray()
        self._started = False

    def _begin(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        return ARMOR_BEGIN + b"\n"

    def update(self, data: bytes) -> bytes:
        self._pending += data
        whole = len(self._pending) - len(self._pending) % BYTES_PER_LINE
        out = bytearray(self._begin())
        for i in range(0, whole, BYTES_PER_LINE):
            out += base64.b64encode(self._pending[i : i + BYTES_PER_LINE]) + b"\n"
        del self._pending[:whole]
        return bytes(out)

    def finalize(self) -> bytes:
        out = self.update(b"")
        if self._pending:
            out += base64.b64encode(self._pending) + b"\n"
            self._pending.clear()
        return out + ARMOR_END + b"\n"
