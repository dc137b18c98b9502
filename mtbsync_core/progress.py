"""Progress events: long engine steps call ``progress(ProgressEvent(...))``; shells render them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressEvent:
    """``done`` of ``total`` units (frames decoded, pairs verified ...) in ``stage``."""

    stage: str
    done: int
    total: int | None
    unit: str = "frames"
    message: str = ""

    @property
    def fraction(self) -> float | None:
        """Share done in 0..1, or None when the total is unknown."""
        if not self.total:
            return None
        return min(1.0, self.done / self.total)


ProgressCallback = Callable[[ProgressEvent], None]


def report(
    progress: ProgressCallback | None,
    stage: str,
    done: int,
    total: int | None,
    unit: str = "frames",
    message: str = "",
) -> None:
    """Call ``progress`` if one was given.

    A total is often an estimate made before the work (samples from the frame rate and GOP); a
    count never passes its total: when the estimate runs out, the total shown is the count.
    """
    if progress is not None:
        if total is not None and done > total:
            total = done
        progress(ProgressEvent(stage, done, total, unit, message))
