"""Merge events of all kinds into highlights, pad them into clip spans, rank them."""

from __future__ import annotations

from collections.abc import Sequence

from .model import Event, Highlight


def merge_events(
    events: Sequence[Event],
    *,
    merge_gap_s: float = 6.0,
    pad_s: float = 2.0,
    duration_s: float | None = None,
) -> list[Highlight]:
    """Events closer than ``merge_gap_s`` (end to start) become one highlight; ranked by score.

    A highlight's score is its best event's score plus a quarter of each other event's (a jump
    with a shout beats the same jump alone), capped at 1. Clip spans are padded by ``pad_s`` and
    clamped to ``[0, duration_s]``; equal scores rank by time.
    """
    if merge_gap_s < 0 or pad_s < 0:
        raise ValueError(f"merge_gap_s and pad_s must be >= 0, got {merge_gap_s} and {pad_s}")
    groups: list[list[Event]] = []
    end = float("-inf")
    for ev in sorted(events, key=lambda e: (e.start_s, e.end_s)):
        if groups and ev.start_s - end <= merge_gap_s:
            groups[-1].append(ev)
            end = max(end, ev.end_s)
        else:
            groups.append([ev])
            end = ev.end_s
    hi = float("inf") if duration_s is None else duration_s
    made = []
    for g in groups:
        scores = sorted((e.score for e in g), reverse=True)
        score = min(1.0, scores[0] + 0.25 * sum(scores[1:]))
        start, stop = min(e.start_s for e in g), max(e.end_s for e in g)
        kinds = tuple(dict.fromkeys(e.kind for e in sorted(g, key=lambda e: -e.score)))
        made.append((score, start, stop, kinds, tuple(g)))
    made.sort(key=lambda m: (-m[0], m[1]))
    return [
        Highlight(
            rank=n,
            start_s=start,
            end_s=stop,
            clip_start_s=max(0.0, start - pad_s),
            clip_end_s=min(hi, stop + pad_s),
            score=round(score, 3),
            kinds=kinds,
            events=evs,
        )
        for n, (score, start, stop, kinds, evs) in enumerate(made, start=1)
    ]
