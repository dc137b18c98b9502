"""Progress display for the command line, drawn with ``rich`` (imported here only, on first use).

The engine emits plain :class:`~mtbsync_core.progress.ProgressEvent` s; this module turns them
into bars: one bar per stage running at once (the reference index and the new run decode side
by side), and for a batch one bar over the runs with a status line per finished run, its rate
and ETA. When stderr is not a terminal, rich prints plain lines instead of redrawing.
"""

from __future__ import annotations

import sys

from ..progress import ProgressEvent


def _progress(console):
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Units per second (per minute when slower than one a second)."""

        def render(self, task) -> Text:
            speed, unit = task.speed, task.fields.get("unit", "")
            if not speed:
                return Text("")
            if speed < 1:
                return Text(f"{speed * 60:.1f} {unit}/min")
            return Text(f"{speed:.0f} {unit}/s")

    return Progress(
        TextColumn("{task.description:<12}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[unit]}"),
        TextColumn("[progress.percentage]{task.percentage:>3.0f}%"),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=False,
    )


class StageBars:
    """Renders progress events as one rich bar per stage (a callable progress callback)."""

    def __init__(self, stream=None) -> None:
        from rich.console import Console

        self.console = Console(file=stream or sys.stderr)
        self._bars = _progress(self.console)
        self._tasks: dict[str, int] = {}
        self._running = False

    def __call__(self, ev: ProgressEvent) -> None:
        if not self._running:
            self._bars.start()
            self._running = True
        task = self._tasks.get(ev.stage)
        if task is None:
            task = self._bars.add_task(ev.stage, total=ev.total, unit=ev.unit)
            self._tasks[ev.stage] = task
        self._bars.update(task, completed=ev.done, total=ev.total)
        if all(t.finished for t in self._bars.tasks):
            self.stop()

    def stop(self) -> None:
        """Leave the bars drawn as they are and stop redrawing."""
        if self._running:
            self._bars.stop()
            self._running = False
            self._bars = _progress(self.console)
            self._tasks.clear()


class BatchDisplay:
    """One bar over a batch's runs (rate, ETA) with a line per finished run, and the reference
    index's own bar while it is built."""

    def __init__(self, n_runs: int, stream=None) -> None:
        from rich.console import Console

        self.console = Console(file=stream or sys.stderr)
        self._bars = _progress(self.console)
        self._runs = self._bars.add_task("runs", total=n_runs, unit="runs")
        self._stages: dict[str, int] = {}

    def start(self, title: str) -> None:
        """Print ``title`` and start drawing."""
        self.console.print(title, markup=False, soft_wrap=True)
        self._bars.start()

    def __call__(self, ev: ProgressEvent) -> None:
        if ev.stage == "batch":
            self._bars.update(self._runs, completed=ev.done, total=ev.total)
            if ev.message:
                self.console.print(
                    f"  [{ev.done}/{ev.total}] {ev.message}", markup=False, soft_wrap=True
                )
            return
        task = self._stages.get(ev.stage)
        if task is None:
            task = self._bars.add_task(ev.stage, total=ev.total, unit=ev.unit)
            self._stages[ev.stage] = task
        self._bars.update(task, completed=ev.done, total=ev.total)

    def stop(self) -> None:
        """Stop drawing (the last state stays on screen)."""
        self._bars.stop()
