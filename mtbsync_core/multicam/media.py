"""Reading what multi-camera sync needs from a file: the audio track (the PTS table is
:mod:`mtbsync_core.video.pts`, re-exported here).

Camera time is the video's presentation time in seconds from its first video frame. Audio is
placed on that clock from the decoded frames' own timestamps (FFmpeg's MP4 demuxer applies edit
lists, and its AAC decoder drops the encoder's priming samples), so ``AudioTrack.t0_s`` may be
negative (audio starting before the first picture) or positive.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import av
import numpy as np

from ..errors import AudioMissingError
from ..video.pts import PtsTable, open_media, read_pts_table

__all__ = [
    "AudioTrack",
    "PtsTable",
    "decode_audio",
    "first_video_pts_s",
    "open_media",
    "read_pts_table",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AudioTrack:
    """Mono float32 audio at ``rate_hz``; sample ``k`` is at camera time ``t0_s + k / rate_hz``."""

    samples: np.ndarray
    rate_hz: int
    t0_s: float

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return len(self.samples) / self.rate_hz


def first_video_pts_s(path: str) -> float:
    """Smallest video PTS among the first packets, in seconds (0 when there is no video)."""
    with open_media(path) as container:
        if not container.streams.video:
            return 0.0
        vs = container.streams.video[0]
        best = None
        for n, pkt in enumerate(container.demux(vs)):
            if pkt.pts is not None:
                best = pkt.pts if best is None else min(best, pkt.pts)
            if n > 64:
                break
        return 0.0 if best is None else float(best * vs.time_base)


def _silence(like: av.AudioFrame, n: int) -> av.AudioFrame:
    """``n`` samples of silence in the format and layout of ``like``."""
    arr = like.to_ndarray()
    shape = (
        (arr.shape[0], n)
        if like.format.is_planar
        else (1, n * arr.shape[1] // max(like.samples, 1))
    )
    out = av.AudioFrame.from_ndarray(
        np.zeros(shape, arr.dtype), format=like.format.name, layout=like.layout.name
    )
    out.sample_rate = like.sample_rate
    return out


def decode_audio(path: str | os.PathLike[str], rate_hz: int = 8000) -> AudioTrack:
    """Decode the first audio stream of ``path`` to mono float32 on the camera clock.

    Gaps in the audio timestamps (lost packets) are filled with silence so later sound stays
    at its true time.
    """
    p = os.fspath(path)
    v0_s = first_video_pts_s(p)
    with open_media(p) as c:
        if not c.streams.audio:
            raise AudioMissingError(
                f"'{p}' has no audio stream, so it cannot be synced by sound. "
                "Use --method flash (a light cue) or --method timecode, or give --offset."
            )
        st = c.streams.audio[0]
        st.thread_type = "AUTO"
        rs = av.AudioResampler(format="flt", layout="mono", rate=rate_hz)
        chunks: list[np.ndarray] = []
        t_first = next_s = None
        try:
            for frame in c.decode(st):
                t_s = None if frame.pts is None else float(frame.pts * frame.time_base)
                if t_first is None:
                    t_first = t_s
                elif t_s is not None and next_s is not None and t_s - next_s > 0.002:
                    log.info(
                        "%s: %.3f s gap in the audio at %.3f s, filled with silence",
                        p,
                        t_s - next_s,
                        next_s,
                    )
                    for g in rs.resample(
                        _silence(frame, round((t_s - next_s) * frame.sample_rate))
                    ):
                        chunks.append(g.to_ndarray().reshape(-1))
                if t_s is not None:
                    next_s = t_s + frame.samples / frame.sample_rate
                for g in rs.resample(frame):
                    chunks.append(g.to_ndarray().reshape(-1))
            for g in rs.resample(None):
                chunks.append(g.to_ndarray().reshape(-1))
        except av.error.FFmpegError as err:
            log.warning("audio of %s ends early: %s", p, err)
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    if samples.size < rate_hz // 4:
        raise AudioMissingError(
            f"'{p}' has almost no audio ({samples.size / rate_hz:.2f} s). "
            "Use --method flash or --offset instead."
        )
    return AudioTrack(samples, rate_hz, (t_first or 0.0) - v0_s)
