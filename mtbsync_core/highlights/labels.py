"""Labelled intervals (CVAT "for video 1.1" XML tracks, or a plain CSV) and scoring against them.

CVAT: each ``<track label="...">`` is visible from a shape with ``outside="0"`` until the next
shape with ``outside="1"`` (or its last visible frame, inclusive); a track that goes outside and
comes back gives several intervals. Frames become seconds through the video's own frame times
(PTS) when the video is known, else ``frame / fps``. CSV: ``kind,start_s,end_s`` (``label``,
``start`` and ``end`` are accepted too), seconds on the video.
"""

from __future__ import annotations

import csv
import os
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import HighlightError
from .model import Event


@dataclass(frozen=True)
class Interval:
    """A labelled span: ``kind`` from ``start_s`` to ``end_s``."""

    kind: str
    start_s: float
    end_s: float


def _frame_time(frame_t_s: np.ndarray | None, fps: float | None, frame: int) -> float:
    if frame_t_s is not None and len(frame_t_s) > 1:
        period = float(np.median(np.diff(frame_t_s)))
        if frame < len(frame_t_s):
            return float(frame_t_s[frame])
        return float(frame_t_s[-1] + (frame - len(frame_t_s) + 1) * period)
    return frame / float(fps)  # type: ignore[arg-type]


def read_cvat_xml(
    path: str | os.PathLike[str],
    *,
    fps: float | None = None,
    frame_t_s: np.ndarray | None = None,
    label_map: Mapping[str, str] | None = None,
) -> list[Interval]:
    """Intervals of every track in a CVAT for video 1.1 export (``label_map`` renames labels)."""
    p = Path(path)
    if fps is None and frame_t_s is None:
        raise HighlightError(
            f"'{p}' counts frames: pass the video it labels (--video) or its frame rate (--fps)."
        )
    try:
        root = ET.parse(p).getroot()
    except (OSError, ET.ParseError) as err:
        raise HighlightError(
            f"Cannot read CVAT labels '{p}' ({err}). Export 'CVAT for video 1.1'."
        ) from err
    if root.tag != "annotations":
        raise HighlightError(
            f"'{p}' is not a CVAT export (root <{root.tag}>). Export 'CVAT for video 1.1'."
        )
    period = 1.0 / fps if fps else float(np.median(np.diff(frame_t_s)))  # type: ignore[arg-type]
    out = []
    for track in root.iter("track"):
        label = track.get("label", "")
        kind = (label_map or {}).get(label, label)
        shapes = []
        for el in track:
            try:
                shapes.append((int(el.get("frame", "")), el.get("outside", "0") == "1"))
            except ValueError as err:
                raise HighlightError(
                    f"'{p}': track {track.get('id')} has a shape without a frame number."
                ) from err
        shapes.sort()
        start = last = None
        for frame, outside in shapes:
            if not outside and start is None:
                start = frame
            if not outside:
                last = frame
            if outside and start is not None:
                out.append(
                    Interval(
                        kind, _frame_time(frame_t_s, fps, start), _frame_time(frame_t_s, fps, frame)
                    )
                )
                start = None
        if start is not None and last is not None:
            t_end = _frame_time(frame_t_s, fps, last) + period
            out.append(Interval(kind, _frame_time(frame_t_s, fps, start), t_end))
    return sorted(out, key=lambda i: (i.start_s, i.kind))


def read_intervals_csv(path: str | os.PathLike[str]) -> list[Interval]:
    """Intervals from a CSV with ``kind,start_s,end_s`` columns (header required)."""
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
    except OSError as err:
        raise HighlightError(
            f"Cannot read labels '{p}' ({err.strerror or err}). Check the path."
        ) from err
    out = []
    for n, row in enumerate(rows, start=2):
        row = {k.strip().lower(): (v or "").strip() for k, v in row.items() if k}
        kind = row.get("kind") or row.get("label")
        try:
            start = float(row.get("start_s") or row.get("start") or "")
            end = float(row.get("end_s") or row.get("end") or "")
        except ValueError:
            raise HighlightError(
                f"'{p}' line {n}: start/end are not numbers. Columns: kind,start_s,end_s."
            ) from None
        if not kind or end < start:
            raise HighlightError(f"'{p}' line {n}: needs a kind and end_s >= start_s.")
        out.append(Interval(kind, start, end))
    return out


def read_labels(
    path: str | os.PathLike[str],
    *,
    fps: float | None = None,
    frame_t_s: np.ndarray | None = None,
    label_map: Mapping[str, str] | None = None,
) -> list[Interval]:
    """CVAT XML or CSV, told apart by content; ``label_map`` renames labels in both."""
    try:
        with Path(path).open("rb") as fh:
            head = fh.read(256).lstrip(b"\xef\xbb\xbf \t\r\n")
    except OSError as err:
        raise HighlightError(
            f"Cannot read labels '{path}' ({err.strerror or err}). Check the path."
        ) from err
    if head.startswith(b"<"):
        return read_cvat_xml(path, fps=fps, frame_t_s=frame_t_s, label_map=label_map)
    rename = label_map or {}
    return [
        Interval(rename.get(i.kind, i.kind), i.start_s, i.end_s) for i in read_intervals_csv(path)
    ]


@dataclass(frozen=True)
class KindScore:
    """Detection quality of one kind against labels."""

    kind: str
    n_labels: int
    n_detected: int
    true_pos: int
    precision: float
    recall: float
    start_err_median_s: float
    end_err_median_s: float
    duration_err_median_s: float


def score_events(
    labels: Sequence[Interval],
    events: Sequence[Event | Interval],
    kinds: Sequence[str] | None = None,
    tolerance_s: float = 0.5,
) -> dict[str, KindScore]:
    """Per kind: each label matched to at most one detection of its kind that overlaps it (within
    ``tolerance_s``), best overlap first; precision, recall and median boundary errors."""
    kinds = list(kinds) if kinds else sorted({i.kind for i in labels})
    out = {}
    for kind in kinds:
        lab = [i for i in labels if i.kind == kind]
        det = [e for e in events if e.kind == kind]
        pairs = []
        for a, li in enumerate(lab):
            for b, d in enumerate(det):
                ov = min(li.end_s, d.end_s) - max(li.start_s, d.start_s)
                if ov > -tolerance_s:
                    pairs.append((-ov, a, b))
        used_a, used_b, errs = set(), set(), []
        for _, a, b in sorted(pairs):
            if a in used_a or b in used_b:
                continue
            used_a.add(a)
            used_b.add(b)
            li, d = lab[a], det[b]
            errs.append(
                (
                    abs(d.start_s - li.start_s),
                    abs(d.end_s - li.end_s),
                    abs((d.end_s - d.start_s) - (li.end_s - li.start_s)),
                )
            )
        tp = len(errs)
        med = np.median(np.asarray(errs), axis=0) if errs else [float("nan")] * 3
        out[kind] = KindScore(
            kind,
            len(lab),
            len(det),
            tp,
            tp / len(det) if det else float("nan"),
            tp / len(lab) if lab else float("nan"),
            *(float(m) for m in med),
        )
    return out
