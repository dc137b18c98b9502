"""Helpers shared by the subcommand modules: a stderr progress bar and small formatters."""

from __future__ import annotations

import sys
import time

from ..progress import ProgressEvent


class ProgressBar:
    """Renders :class:`ProgressEvent` s as a one-line bar on stderr (plain lines when not a TTY)."""

    def __init__(self, stream=None, min_interval_s: float = 0.2) -> None:
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.min_interval_s = min_interval_s if self.tty else 2.0
        self._last = 0.0
        self._stage = ""

    def __call__(self, ev: ProgressEvent) -> None:
        now = time.monotonic()
        finished = ev.total is not None and ev.done >= ev.total
        if ev.stage == self._stage and not finished and now - self._last < self.min_interval_s:
            return
        if ev.stage != self._stage and self.tty and self._stage:
            self.stream.write("\n")
        self._stage, self._last = ev.stage, now
        frac = ev.fraction
        if frac is None:
            line = f"{ev.stage}: {ev.done} {ev.unit}"
        else:
            n = int(frac * 30)
            line = f"{ev.stage:<10} [{'#' * n}{'.' * (30 - n)}] {ev.done}/{ev.total} {ev.unit}"
        if ev.message:
            line += f"  {ev.message}"
        if self.tty:
            self.stream.write("\r" + line[:120].ljust(120))
            if finished:
                self.stream.write("\n")
                self._stage = ""
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def progress_for(args) -> ProgressBar | None:
    """A progress bar unless ``--quiet`` was given."""
    return None if getattr(args, "quiet", False) else ProgressBar()
