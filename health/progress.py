"""Progress bars for the long-running commands (seed_demo, close_days, the benchmarks), drawn by
rich: redrawn in place on a terminal, one final line when the output is a file or a pipe."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import (
    Progress as RichProgress,
)


def _console(stream: TextIO | None) -> Console:
    # Django's OutputWrapper ends every write with a newline; rich needs the stream beneath.
    out = getattr(stream, "_out", stream) or sys.stdout
    return Console(file=out, highlight=False)


def _bar(console: Console) -> RichProgress:
    return RichProgress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


class Progress:
    """A bar of `total` steps that closes itself when the last step is done."""

    def __init__(self, label: str, total: int, *, stream: TextIO | None = None) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.bar = _bar(_console(stream))
        self.task = self.bar.add_task(label, total=self.total)
        self.bar.start()

    def advance(self, step: int = 1) -> None:
        self.done = min(self.done + step, self.total)
        self.bar.update(self.task, completed=self.done)
        if self.done == self.total:
            self.bar.stop()


@contextmanager
def progress_bar(
    label: str, *, total: float, stream: TextIO | None = None
) -> Iterator[Callable[..., None]]:
    """A bar for the block: call `advance(step)` or `advance(value, absolute=True)`."""
    bar = _bar(_console(stream))
    task = bar.add_task(label, total=total)

    def advance(value: float = 1, *, absolute: bool = False) -> None:
        if absolute:
            bar.update(task, completed=value)
        else:
            bar.advance(task, value)

    with bar:
        yield advance
        bar.update(task, completed=total)
