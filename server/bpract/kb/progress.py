"""A plain progress bar on stderr: redrawn in place on a terminal, a few lines otherwise."""

from __future__ import annotations

import sys
from typing import TextIO

__all__ = ["Progress"]

_WIDTH = 28


class Progress:
    """``advance()`` once per item; ``total`` may be unknown (crawls) and set later."""

    def __init__(self, label: str, total: int | None = None, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self._tty = self.stream.isatty()
        self._last_tenth = -1

    def _line(self, note: str) -> str:
        if self.total:
            filled = _WIDTH * min(self.done, self.total) // self.total
            bar = "#" * filled + "." * (_WIDTH - filled)
            head = f"{self.label} [{bar}] {self.done}/{self.total}"
        else:
            head = f"{self.label} {self.done}"
        return f"{head} {note}".rstrip()

    def advance(self, n: int = 1, note: str = "") -> None:
        self.done += n
        if self._tty:
            self.stream.write("\r\x1b[K" + self._line(note[:60]))
            self.stream.flush()
            return
        tenth = 10 * self.done // self.total if self.total else self.done // 50
        if tenth != self._last_tenth:
            self._last_tenth = tenth
            self.stream.write(self._line("") + "\n")

    def finish(self, summary: str = "") -> None:
        if self._tty:
            self.stream.write("\r\x1b[K")
        self.stream.write(self._line(summary) + "\n")
        self.stream.flush()
