"""Frame-exact highlight clips through the smart cut of :mod:`mtbsync_core.video.smartcut`.

A clip holds the frames from the first frame at or after its start to the last frame before its
end (half a frame period either way). Between keyframes the video is stream-copied; only the
frames from the clip's first frame to the next keyframe (the head) and from the last keyframe
before the clip's end to that end (the tail) are re-encoded (CRF 10, own parameter sets in-band,
see :mod:`mtbsync_core.video.h264`). A clip inside one GOP is re-encoded whole; a stream the
smart cut cannot handle (not 8-bit 4:2:0 H.264) is re-encoded whole at CRF 16. Audio packets are
copied for the clip's span. Files are written under a temporary name and renamed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from ..errors import HighlightError
from ..fileio import check_writable
from ..video.pts import PtsTable, open_media, read_pts_table
from ..video.smartcut import decodes_ok, mux_reencoded, reencode_head, reencode_span


@dataclass(frozen=True)
class Clip:
    """One written clip: source frames ``first_frame_idx`` .. ``last_frame_idx`` (inclusive)."""

    path: str
    first_frame_idx: int
    last_frame_idx: int
    start_s: float  # time of the first frame in the source
    end_s: float  # time just after the last frame in the source
    mode: str  # copy | smart | reencode
    frames_reencoded: int

    @property
    def frames(self) -> int:
        """Number of frames in the clip."""
        return self.last_frame_idx - self.first_frame_idx + 1


def clip_frames(tab: PtsTable, start_s: float, end_s: float) -> tuple[int, int]:
    """(first, last) frame indices of the span ``[start_s, end_s)`` on the frame times of ``tab``."""
    half = 0.5 * tab.frame_period_s
    first = int(np.searchsorted(tab.t_s, start_s - half + 1e-9))
    last = int(np.searchsorted(tab.t_s, end_s - half + 1e-9)) - 1
    last = min(last, len(tab.t_s) - 1)
    if first > last:
        raise HighlightError(
            f"The span {start_s:.3f}..{end_s:.3f} s holds no frame of '{tab.path}' "
            f"(video {tab.duration_s:.3f} s). Check the highlight times."
        )
    return first, last


def _plan(tab: PtsTable, i0: int, e: int) -> tuple[int, int]:
    """(k1, k2): copy keyframe-aligned ``[k1, k2)``; re-encode ``[i0, k1)`` and ``[k2, e)``."""
    keys = np.flatnonzero(tab.keyframe[i0:e]) + i0
    if len(keys) == 0:
        return e, e
    k1 = int(keys[0])
    k2 = e if e == len(tab.pts) or tab.keyframe[e] else int(keys[-1])
    return k1, max(k1, k2)


def _write(src: str, dst: str, tab: PtsTable, i0: int, e: int, k1: int, k2: int, head, tail) -> int:
    """Mux head, copied packets of ``[k1, k2)``, tail and the audio of the span; frames written."""
    cut = int(tab.pts[i0])
    stop_v = int(tab.pts[k2]) if k2 < len(tab.pts) else None
    end_pts = int(tab.pts[e]) if e < len(tab.pts) else None
    n, delay, copying, v_done = 0, 0, False, k1 >= k2
    with open_media(src) as ic, av.open(dst, "w") as oc:
        vs = ic.streams.video[0]
        ov = oc.add_stream_from_template(vs)
        aud = ic.streams.audio[0] if ic.streams.audio else None
        oa = oc.add_stream_from_template(aud) if aud is not None else None
        a_shift = round(Fraction(cut) * vs.time_base / aud.time_base) if aud is not None else 0
        a_end = (
            None
            if end_pts is None or aud is None
            else round(Fraction(end_pts) * vs.time_base / aud.time_base)
        )
        if v_done:  # nothing to copy: the head and the tail are all there is
            n += mux_reencoded(oc, ov, [*(head or []), *(tail or [])], cut, 0, tab.time_base)
        for pkt in ic.demux([s for s in (vs, aud) if s is not None]):
            if pkt.pts is None or pkt.size == 0:
                continue
            if pkt.stream is vs:
                if v_done:
                    continue
                if not copying and pkt.pts == int(tab.pts[k1]) and pkt.is_keyframe:
                    copying = True
                    delay = pkt.pts - (pkt.dts if pkt.dts is not None else pkt.pts)
                    n += mux_reencoded(oc, ov, head or [], cut, delay, tab.time_base)
                elif copying and stop_v is not None and pkt.pts == stop_v and pkt.is_keyframe:
                    v_done = True
                    n += mux_reencoded(oc, ov, tail or [], cut, delay, tab.time_base)
                    continue
                if not copying:
                    continue
                pkt.stream, shift = ov, cut
                n += 1
            else:
                if pkt.pts < a_shift or (a_end is not None and pkt.pts >= a_end):
                    continue
                pkt.stream, shift = oa, a_shift
            pkt.pts -= shift
            if pkt.dts is not None:
                pkt.dts -= shift
            oc.mux(pkt)
        if copying and not v_done:
            n += mux_reencoded(oc, ov, tail or [], cut, delay, tab.time_base)
    return n


def cut_clip(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    start_s: float,
    end_s: float,
    *,
    force: bool = False,
    table: PtsTable | None = None,
) -> Clip:
    """Write the frames of ``[start_s, end_s)`` of ``src`` to ``dst``, frame-exact (see module)."""
    out = check_writable(dst, force)
    tab = table or read_pts_table(src)
    i0, i1 = clip_frames(tab, start_s, end_s)
    e = i1 + 1
    k1, k2 = _plan(tab, i0, e)
    tmp = out.with_name(f".{out.name}.part{out.suffix}")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        head = reencode_head(str(src), tab, i0, k1) if k1 > i0 else []
        tail = reencode_head(str(src), tab, k2, e) if e > k2 else []
        if head is None or tail is None:
            mode, n, again = "reencode", reencode_span(str(src), str(tmp), tab, i0, e), e - i0
        else:
            n = _write(str(src), str(tmp), tab, i0, e, k1, k2, head, tail)
            again = len(head) + len(tail)
            mode = "smart" if again else "copy"
            if n != e - i0 or not decodes_ok(str(tmp), min(n, len(head) + 2)):
                mode, n, again = "reencode", reencode_span(str(src), str(tmp), tab, i0, e), e - i0
        if n != e - i0:
            raise HighlightError(
                f"Clip {start_s:.3f}..{end_s:.3f} s of '{src}' got {n} frames, not {e - i0}."
            )
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            tmp.unlink()
    return Clip(
        str(out), i0, i1, float(tab.t_s[i0]), float(tab.t_s[i1] + tab.frame_period_s), mode, again
    )


def cut_highlight_clips(
    result, out_dir: str | os.PathLike[str], *, force: bool = False, progress=None
) -> list[Clip]:
    """One clip per highlight of ``result`` (a :class:`HighlightResult`), named by rank and kinds."""
    from ..progress import report

    src = result.video
    tab = read_pts_table(src)
    stem = Path(src).stem
    suffix = Path(src).suffix or ".mp4"
    targets = [
        Path(out_dir) / f"{stem}_{h.rank:02d}_{'+'.join(h.kinds)}{suffix}"
        for h in result.highlights
    ]
    for p in targets:
        check_writable(p, force)
    clips = []
    for n, (h, dst) in enumerate(zip(result.highlights, targets, strict=True)):
        clips.append(cut_clip(src, dst, h.clip_start_s, h.clip_end_s, force=force, table=tab))
        report(progress, "clips", n + 1, len(targets), "clips")
    return clips
