"""Progress bars for long commands: counts and time left on a terminal, nothing when piped.

Drawn on stderr, so ``--json`` output on stdout stays clean; when stderr is not a terminal
(CI, cron, a pipe) the bar stays silent and only the final report is printed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
)

from switchyard.cli.common import errors

Advance = Callable[[int], None]


def _silent(count: int) -> None:
    """Progress ignored: stderr is not a terminal."""


@contextmanager
def progress(description: str, total: int | None) -> Iterator[Advance]:
    """Yield ``advance(n)``; ``total`` None draws an open-ended count."""
    if not errors.is_terminal:
        yield _silent
        return
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=errors,
        transient=True,
    ) as bar:
        task = bar.add_task(description, total=total)
        yield lambda count: bar.advance(task, count)
