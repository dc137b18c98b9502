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
        self._live: dict[str, ProgressEvent] = {}  # stages running at once share the line

    def __call__(self, ev: ProgressEvent) -> None:
        now = time.monotonic()
        finished = ev.total is not None and ev.done >= ev.total
        known = ev.stage in self._live
        self._live[ev.stage] = ev
        if known and not finished and now - self._last < self.min_interval_s:
            return
        self._last = now
        if self.tty:
            line = " | ".join(self._line(e) for e in self._live.values())
            self.stream.write("\r" + line[:160].ljust(160))
            if all(e.total is not None and e.done >= e.total for e in self._live.values()):
                self.stream.write("\n")
                self._live.clear()
        else:
            self.stream.write(self._line(ev) + "\n")
            if finished:
                self._live.pop(ev.stage, None)
        self.stream.flush()

    @staticmethod
    def _line(ev: ProgressEvent) -> str:
        frac = ev.fraction
        if frac is None:
            line = f"{ev.stage}: {ev.done} {ev.unit}"
        else:
            n = int(frac * 30)
            line = f"{ev.stage:<10} [{'#' * n}{'.' * (30 - n)}] {ev.done}/{ev.total} {ev.unit}"
        return line + (f"  {ev.message}" if ev.message else "")


def progress_for(args) -> ProgressBar | None:
    """A progress bar unless ``--quiet`` was given."""
    return None if getattr(args, "quiet", False) else ProgressBar()
