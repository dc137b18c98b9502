"""Browser proxies: small H.264 copies of a run that a ``<video>`` element seeks quickly.

Camera originals (4K HEVC, long GOPs) seek slowly or not at all in a browser. A proxy is scaled to
``width`` pixels, encoded as H.264 yuv420p with a short GOP and ``+faststart`` (the index at the
front, so playback starts before the download ends). Presentation times are kept from the source
(VFR-safe) and shifted so the first frame is at 0, matching ``t_new_s`` / ``t_ref_s``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import tempfile
from fractions import Fraction
from pathlib import Path

import av

from ..errors import VideoOpenError
from ..fileio import check_writable
from ..progress import ProgressCallback, report

log = logging.getLogger(__name__)

#: Streamlit serves static files up to 200 MB; proxies stay below this.
MAX_PROXY_BYTES = 180 * 1024 * 1024


def proxy_size(src_w: int, src_h: int, width: int) -> tuple[int, int]:
    """Output (w, h): ``width`` wide (never upscaled), even sides, aspect kept."""
    w = min(width, src_w)
    w -= w % 2
    h = round(src_h * w / src_w)
    return w, max(2, h - h % 2)


def _duration_s(inp: av.container.InputContainer, vin: av.video.stream.VideoStream) -> float | None:
    if vin.duration is not None and vin.time_base is not None:
        return float(vin.duration * vin.time_base)
    return inp.duration / 1e6 if inp.duration else None


def _bitrate_cap(duration_s: float | None, max_bytes: int) -> dict[str, str]:
    """x264 VBV options keeping ``duration_s`` of video under ``max_bytes`` (none when roomy)."""
    if not duration_s or duration_s <= 0:
        return {}
    kbps = int(0.85 * max_bytes * 8 / duration_s / 1000)
    if kbps >= 8000:  # CRF alone stays far below this at 960 px
        return {}
    return {"maxrate": f"{kbps}k", "bufsize": f"{2 * kbps}k"}


def make_proxy(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    width: int = 960,
    progress: ProgressCallback | None = None,
    *,
    crf: int = 26,
    gop: int = 6,
    max_bytes: int = MAX_PROXY_BYTES,
    force: bool = True,
) -> Path:
    """Encode a browser proxy of ``src`` at ``dst`` (written atomically); returns ``dst``.

    ``gop`` frames between keyframes bounds how much a seek decodes. On long runs the bitrate is
    capped so the file stays under about ``max_bytes`` (Streamlit's static serving refuses files
    over 200 MB). Progress is reported in frames (stage ``"proxy"``). Raises
    :class:`VideoOpenError` when ``src`` is not a video.
    """
    dst_p = check_writable(dst, force)
    dst_p.parent.mkdir(parents=True, exist_ok=True)
    try:
        inp = av.open(str(src))
    except (av.error.FFmpegError, OSError) as err:
        raise VideoOpenError(
            f"Could not open '{src}' to make a proxy: {err}. Pass a video file."
        ) from err
    fd, tmp = tempfile.mkstemp(prefix=f".{dst_p.name}.", suffix=".part.mp4", dir=dst_p.parent)
    os.close(fd)
    try:
        with inp:
            if not inp.streams.video:
                raise VideoOpenError(f"'{src}' has no video stream. Pass a video file.")
            _transcode(inp, tmp, width, (crf, gop, max_bytes), progress, str(src))
        os.chmod(tmp, 0o644)
        os.replace(tmp, dst_p)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return dst_p


def _transcode(
    inp: av.container.InputContainer,
    tmp: str,
    width: int,
    rate_control: tuple[int, int, int],
    progress: ProgressCallback | None,
    name: str,
) -> None:
    crf, gop, max_bytes = rate_control
    vin = inp.streams.video[0]
    vin.thread_type = "AUTO"
    total = vin.frames or None
    rate = vin.average_rate or Fraction(30)
    tb = vin.time_base or Fraction(1, 90000)
    w, h = proxy_size(vin.codec_context.width, vin.codec_context.height, width)
    with av.open(tmp, "w", format="mp4", options={"movflags": "+faststart"}) as out:
        vout = out.add_stream("libx264", rate=rate)
        vout.width, vout.height, vout.pix_fmt = w, h, "yuv420p"
        vout.codec_context.time_base = tb
        vout.options = {
            "crf": str(crf),
            "preset": "veryfast",
            "tune": "fastdecode",  # no CABAC / deblocking: cheaper seeks in the browser
            "g": str(gop),
            "bf": "0",
            "keyint_min": str(gop),
            "x264-params": "scenecut=0",
            **_bitrate_cap(_duration_s(inp, vin), max_bytes),
        }
        start_pts, done, last_pts = None, 0, -1
        try:
            for frame in inp.decode(vin):
                if frame.pts is None:
                    continue
                start_pts = frame.pts if start_pts is None else start_pts
                pts = max(frame.pts - start_pts, last_pts + 1)  # strictly increasing
                last_pts = pts
                small = frame.reformat(width=w, height=h, format="yuv420p")
                small.pts, small.time_base = pts, tb
                for pkt in vout.encode(small):
                    out.mux(pkt)
                done += 1
                if done % 30 == 0:
                    report(progress, "proxy", done, total)
        except av.error.FFmpegError as err:
            raise VideoOpenError(f"Could not decode '{name}' for its proxy: {err}.") from err
        for pkt in vout.encode():
            out.mux(pkt)
    report(progress, "proxy", done, total or done)
    log.debug("proxy of %s: %d frames at %dx%d", name, done, w, h)
