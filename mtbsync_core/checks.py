"""Checks on numbers and names that come from files or the command line.

Every value read from a sidecar (``warp.json``, ``multicam.json``), an editor file or an
argument goes through one of these before it is used: a NaN, an infinity, a boolean where a
number belongs, a number out of range or a name that would leave the output folder is refused
with one line naming the source and the field.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from .errors import MtbSyncError, OutputError

#: Longest duration (seconds) any time in a sidecar may have: a day of footage.
MAX_TIME_S = 86_400.0
_UNSAFE = re.compile(r"[^A-Za-z0-9._ -]+")


def finite_number(
    value: Any,
    what: str,
    source: str,
    error: type[MtbSyncError],
    lo: float | None = None,
    hi: float | None = None,
    fix: str = "",
) -> float:
    """``value`` as a finite float within [lo, hi], else ``error`` naming ``what`` in ``source``."""
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    x = float(value) if ok and abs(value) < 1e300 else math.nan
    if not ok or not math.isfinite(x) or (lo is not None and x < lo) or (hi is not None and x > hi):
        span = "" if lo is None and hi is None else f" in [{lo}, {hi}]"
        raise error(
            f"{source}: {what} is {_short(value)}, not a finite number{span}."
            + (f" {fix}" if fix else "")
        )
    return x


def number_list(
    value: Any,
    what: str,
    source: str,
    error: type[MtbSyncError],
    max_len: int,
    lo: float | None = None,
    hi: float | None = None,
    fix: str = "",
) -> list[float]:
    """A list of at most ``max_len`` finite numbers in [lo, hi] (see :func:`finite_number`)."""
    if not isinstance(value, list):
        raise error(f"{source}: {what} is {_short(value)}, not a list of numbers. {fix}".strip())
    if len(value) > max_len:
        raise error(
            f"{source}: {what} holds {len(value)} values, more than {max_len}. {fix}".strip()
        )
    return [
        finite_number(v, f"{what}[{k}]", source, error, lo, hi, fix) for k, v in enumerate(value)
    ]


def safe_file_stem(name: Any, fallback: str = "file") -> str:
    """``name`` made safe as one file name: no folders, no leading dots, no odd characters."""
    text = _UNSAFE.sub("_", str(name)).strip(" .")
    return text[:120] or fallback


def inside_folder(path: Path, folder: Path) -> Path:
    """``path`` if it lies inside ``folder`` once resolved, else :class:`OutputError`."""
    real, root = path.resolve(), folder.resolve()
    if real.parent != root and root not in real.parents:
        raise OutputError(
            f"Refusing to write '{path}': it is outside the output folder '{folder}'."
        )
    return path


def cli_number(text: str, lo: float, hi: float, lo_open: bool = False) -> float:
    """Parse a command-line number within [lo, hi] (``lo_open``: strictly above ``lo``).

    Raises ``ValueError`` with a message argparse shows as is.
    """
    try:
        x = float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None
    if not math.isfinite(x) or x < lo or x > hi or (lo_open and x == lo):
        rel = ">" if lo_open else ">="
        raise ValueError(f"{text!r} must be a finite number {rel} {lo} and <= {hi}")
    return x


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
