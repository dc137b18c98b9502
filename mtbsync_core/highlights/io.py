"""``highlights.json`` / ``highlights.csv``: the result of one run, written atomically.

JSON: ``{"format": "mtbsync.highlights", "version": 1, "video": ..., "duration_s": ...,
"sources": [...], "params": {...}, "events": [...], "highlights": [...]}``; each highlight
lists its events' indices. CSV: one row per highlight, best first.
"""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ..errors import HighlightError
from ..fileio import write_text_atomic
from .model import Event, Highlight

FORMAT = "mtbsync.highlights"
CSV_COLUMNS = ("rank", "start_s", "end_s", "clip_start_s", "clip_end_s", "score", "kinds", "reason")


@dataclass(frozen=True)
class HighlightResult:
    """Everything found in one run."""

    video: str
    duration_s: float
    sources: tuple[str, ...]
    events: tuple[Event, ...]
    highlights: tuple[Highlight, ...]
    params: dict[str, Any] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)


def _event_dict(e: Event) -> dict:
    d = asdict(e)
    d["start_s"], d["end_s"] = round(e.start_s, 4), round(e.end_s, 4)
    return d


def result_to_dict(r: HighlightResult) -> dict:
    """The JSON-able form of ``r``."""
    index = {id(e): n for n, e in enumerate(r.events)}
    his = []
    for h in r.highlights:
        d = {k: v for k, v in asdict(h).items() if k != "events"}
        d.update(name=h.name, reason=h.reason, kinds=list(h.kinds))
        d["event_ids"] = [index[id(e)] for e in h.events if id(e) in index]
        for k in ("start_s", "end_s", "clip_start_s", "clip_end_s"):
            d[k] = round(d[k], 4)
        his.append(d)
    return {
        "format": FORMAT,
        "version": 1,
        "video": r.video,
        "duration_s": round(r.duration_s, 4),
        "sources": list(r.sources),
        "params": r.params,
        "timings_s": r.timings_s,
        "events": [_event_dict(e) for e in r.events],
        "highlights": his,
    }


def result_from_dict(d: dict, where: str = "highlights.json") -> HighlightResult:
    """Inverse of :func:`result_to_dict` (raises :class:`HighlightError` on another format)."""
    if d.get("format") != FORMAT or d.get("version") != 1:
        raise HighlightError(f"'{where}' is not an mtbsync highlights file (format/version).")
    try:
        events = tuple(Event(**e) for e in d["events"])
        his = []
        for h in d["highlights"]:
            evs = tuple(events[i] for i in h["event_ids"])
            his.append(
                Highlight(
                    h["rank"],
                    h["start_s"],
                    h["end_s"],
                    h["clip_start_s"],
                    h["clip_end_s"],
                    h["score"],
                    tuple(h["kinds"]),
                    evs,
                )
            )
    except (KeyError, TypeError, IndexError) as err:
        raise HighlightError(
            f"'{where}' is damaged ({err!r}). Run mtbsync highlights again."
        ) from err
    return HighlightResult(
        d["video"],
        d["duration_s"],
        tuple(d["sources"]),
        events,
        tuple(his),
        d.get("params", {}),
        d.get("timings_s", {}),
    )


def select_highlights(r: HighlightResult, ranks) -> HighlightResult:
    """The result keeping only the highlights whose rank is in ``ranks`` (and their events)."""
    keep = set(ranks)
    his = tuple(h for h in r.highlights if h.rank in keep)
    ids = {id(e) for h in his for e in h.events}
    events = tuple(e for e in r.events if id(e) in ids)
    return HighlightResult(r.video, r.duration_s, r.sources, events, his, r.params, r.timings_s)


def highlights_csv(r: HighlightResult) -> str:
    """One CSV row per highlight (``CSV_COLUMNS``)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for h in r.highlights:
        w.writerow(
            [
                h.rank,
                f"{h.start_s:.3f}",
                f"{h.end_s:.3f}",
                f"{h.clip_start_s:.3f}",
                f"{h.clip_end_s:.3f}",
                f"{h.score:.3f}",
                "+".join(h.kinds),
                h.reason,
            ]
        )
    return buf.getvalue()


def write_highlights(
    r: HighlightResult,
    out_dir: str | os.PathLike[str],
    force: bool = False,
    stem: str = "highlights",
) -> tuple[Path, Path]:
    """Write ``stem.json`` and ``stem.csv`` into ``out_dir`` (atomic; no overwrite unless ``force``)."""
    out = Path(out_dir)
    j, c = out / f"{stem}.json", out / f"{stem}.csv"
    if not force:
        from ..fileio import check_writable

        check_writable(j)
        check_writable(c)
    write_text_atomic(j, json.dumps(result_to_dict(r), indent=1), force=force)
    write_text_atomic(c, highlights_csv(r), force=force)
    return j, c


def read_highlights(path: str | os.PathLike[str]) -> HighlightResult:
    """Read a ``highlights.json``."""
    p = Path(path)
    try:
        d = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise HighlightError(f"Cannot read highlights '{p}' ({err}). Check the path.") from err
    return result_from_dict(d, str(p))
