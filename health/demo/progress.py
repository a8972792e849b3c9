"""A one-line progress bar for long-running commands."""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Prints `label [#####.....] 50% (500/1000) 3.2s`, redrawn in place on a terminal."""

    def __init__(self, label: str, total: int, *, stream: TextIO | None = None) -> None:
        self.label = label
        self.total = max(total, 1)
        self.done = 0
        self.stream = stream or sys.stdout
        self.started = time.monotonic()
        self.last_drawn = -1.0
        self.interactive = getattr(self.stream, "isatty", lambda: False)()

    def advance(self, step: int = 1) -> None:
        self.done = min(self.done + step, self.total)
        now = time.monotonic()
        if self.done == self.total or now - self.last_drawn >= (0.1 if self.interactive else 2.0):
            self.last_drawn = now
            self.draw()

    def draw(self) -> None:
        width = 30
        filled = int(width * self.done / self.total)
        bar = "#" * filled + "." * (width - filled)
        percent = 100 * self.done // self.total
        elapsed = time.monotonic() - self.started
        line = f"{self.label} [{bar}] {percent:3d}% ({self.done}/{self.total}) {elapsed:.1f}s"
        end = "\r" if self.interactive and self.done < self.total else "\n"
        self.stream.write(line + end)
        self.stream.flush()
