"""The live transfer display on a terminal: a few lines on stderr, redrawn four times a second, with every other
line of the run printed above it (render.py sends them through `above`).

Drawn by hand, not with rich's Live, for two cases rich leaves pieces of the display in the scrollback:

- stdout is a pipe (`put -r … | cat`, `| tee log`, `| head`): the pipe's reader writes the object lines to the
  same terminal whenever it gets round to it, so a line can land in the middle of the display and the next redraw
  erases the wrong rows. There is no sharing a console across processes; so the display shrinks to its first
  line, is erased before each object line goes into the pipe, and is drawn again only once stdout has been quiet
  for QUIET seconds (the reader has written its line by then). A stream of object lines is progress enough.
- the terminal gets narrower (SIGWINCH): terminals (tmux, VTE, iTerm2, kitty) rewrap the drawn lines, so one line
  now takes several rows. The erase counts the rows each drawn line takes at the *current* width, and every line
  is cut to one column less than the width, so it never wraps at the width it was drawn for.
"""

from __future__ import annotations

import math
import os
import signal
import stat
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import TextIO

from rich.cells import cell_len, set_cell_size

REFRESH = 0.25  # seconds between redraws
QUIET = 0.5  # seconds stdout (a pipe) must have been quiet before the display is drawn again


def is_pipe(stream: TextIO) -> bool:
    """Whether `stream` is a pipe or socket (its reader may write to our terminal), not a file or a terminal."""
    try:
        mode = os.fstat(stream.fileno()).st_mode
    except (OSError, ValueError, AttributeError):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def _width(term: TextIO) -> int:
    try:
        return max(2, os.get_terminal_size(term.fileno()).columns)
    except (OSError, ValueError, AttributeError):
        return 80


def fit(line: str, width: int) -> str:
    """`line` cut to fewer cells than `width`: a line as wide as the terminal would leave the cursor past its edge."""
    return line if cell_len(line) < width else set_cell_size(line, width - 1)


def rows_taken(lines: list[str], width: int) -> int:
    """How many rows `lines` take once the terminal rewrapped them to `width` columns."""
    return sum(max(1, math.ceil(cell_len(line) / width)) for line in lines)


def erase_sequence(drawn: list[str], width: int) -> str:
    """What erases `drawn` (the cursor at the end of its last line) and leaves the cursor where its first line began.

    Its first row is cleared on its own, then the rows below: never one "clear to the end of the screen" from the
    first row, because when that row is the screen's top (a resize reflows the display up there) tmux
    (scroll-on-clear, on by default) moves the whole screen into the scrollback, display included, at every erase."""
    if not drawn:
        return ""
    up = rows_taken(drawn, width) - 1
    below = "\x1b[1B\x1b[J\x1b[1A" if up else ""
    return "\r" + (f"\x1b[{up}A" if up else "") + "\x1b[2K" + below


class LiveDisplay:
    """`view()` (the display's lines) kept drawn on `term` until `stop`; `piped` is stdout when it is a pipe."""

    def __init__(self, term: TextIO, view: Callable[[], list[str]], *, piped: TextIO | None) -> None:
        self._term = term
        self._view = view
        self._piped = piped
        self._drawn: list[str] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopped = False
        self._last_out = 0.0
        self._thread = threading.Thread(target=self._run, name="s3safe-live", daemon=True)
        self._old_winch: object = None

    def start(self) -> None:
        if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGWINCH"):
            self._old_winch = signal.signal(signal.SIGWINCH, self._resized)
        with self._lock:
            self._draw()
        self._thread.start()

    def stop(self) -> None:
        """Erase the display (the summary line that follows says how the run ended)."""
        if self._old_winch is not None:
            signal.signal(signal.SIGWINCH, self._old_winch)  # type: ignore[arg-type]
        with self._lock:
            self._stopped = True
            self._erase()
        self._wake.set()
        self._thread.join(timeout=5)

    def above(self, stream: TextIO, line: str) -> None:
        """Print `line` on `stream` without tearing the display: erase it, print, draw it again (into a pipe: later)."""
        to_pipe = self._piped is not None and stream is self._piped
        if not to_pipe and not stream.isatty():  # a file: nothing of it reaches the terminal
            stream.write(line + "\n")
            return
        with self._lock:
            self._erase()
            stream.write(line + "\n")
            stream.flush()
            if to_pipe:
                self._last_out = time.monotonic()
            else:
                self._draw()

    def _resized(self, _signum: int, _frame: FrameType | None) -> None:
        self._wake.set()  # no lock in a signal handler: the main thread may hold it; the thread redraws

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait(REFRESH)
            self._wake.clear()
            with self._lock:
                if not self._stopped:
                    self._draw()

    def _draw(self) -> None:
        if self._piped is not None and time.monotonic() - self._last_out < QUIET:
            self._erase()
            return
        width = _width(self._term)
        lines = self._view()[: 1 if self._piped is not None else None]
        lines = [fit(line, width) for line in lines]
        self._write(self._erase_sequence(width) + "\n".join(lines))
        self._drawn = lines

    def _erase(self) -> None:
        if self._drawn:
            self._write(self._erase_sequence(_width(self._term)))
            self._drawn = []

    def _erase_sequence(self, width: int) -> str:
        return erase_sequence(self._drawn, width)

    def _write(self, text: str) -> None:
        try:
            self._term.write(text)
            self._term.flush()
        except (OSError, ValueError):  # the terminal went away: nothing more to draw on
            self._stopped = True
