"""The progress bar of a batch run: rich on stderr, or nothing at all."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class ProgressBar:
    """A rich progress bar on stderr, or nothing."""

    def __init__(self, enabled: bool, total: int, completed: int, console: Console | None) -> None:
        self._bar: Progress | None = None
        if enabled:
            self._bar = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(),
                MofNCompleteColumn(), TextColumn("{task.fields[stats]}"), TimeElapsedColumn(),
                TextColumn("eta"), TimeRemainingColumn(),
                console=console or Console(stderr=True), refresh_per_second=4)
            self._task = self._bar.add_task("assessing", total=total, completed=completed,
                                            stats="")
            self._bar.start()

    def update(self, stats: str, advance: int = 0, description: str | None = None) -> None:
        if self._bar is not None:
            kw: dict[str, Any] = {"stats": stats, "advance": advance}
            if description is not None:
                kw["description"] = description
            self._bar.update(self._task, **kw)

    def print(self, message: str) -> None:
        if self._bar is not None:
            self._bar.console.print(message, highlight=False, soft_wrap=True)

    def stop(self) -> None:
        if self._bar is not None:
            self._bar.stop()


def tokens(n: int) -> str:
    """A token count as people read it: 950, 12.3k, 1.20M."""
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}k" if n >= 1e3 else str(n)
