"""A real multi-chapter recording from one GoPro file: split at keyframes, as the camera does.

The camera closes a chapter at a keyframe and starts the next one there, each chapter with its
own timestamps from zero, the audio and telemetry cut at the same moment. This does the same
with a stream copy (no re-encoding), so the chapters hold exactly the original's packets.
"""

from __future__ import annotations

from pathlib import Path

import av


def _keyframe_times(path: Path) -> list[float]:
    with av.open(str(path)) as c:
        st = c.streams.video[0]
        return [
            float(p.pts * st.time_base) for p in c.demux(st) if p.is_keyframe and p.pts is not None
        ]


def split_at_keyframes(
    src: str | Path, out_dir: str | Path, chapters: int = 3, number: int = 42
) -> list[Path]:
    """Write ``chapters`` GoPro-named chapter files (``GH01NNNN.MP4`` ...) of ``src`` into ``out_dir``.

    Cuts fall on the keyframes nearest to equal shares of the duration. Returns the paths.
    """
    src = Path(src)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    keys = _keyframe_times(src)
    total = keys[-1]
    cuts = sorted(
        {min(keys, key=lambda k: abs(k - total * i / chapters)) for i in range(1, chapters)}
    )
    bounds = [0.0, *cuts, float("inf")]
    paths = [out / f"GH{i + 1:02d}{number:04d}.MP4" for i in range(len(bounds) - 1)]
    with av.open(str(src)) as c:
        streams = [
            s
            for s in c.streams
            if s.type in ("video", "audio") or "MET" in s.metadata.get("handler_name", "")
        ]
        dsts = [av.open(str(p), "w", format="mp4") for p in paths]
        outs = [[d.add_stream_from_template(s) for s in streams] for d in dsts]
        firsts: list[dict[int, int]] = [{} for _ in dsts]
        video_k = 0
        for pkt in c.demux(streams):
            ts = pkt.dts if pkt.dts is not None else pkt.pts
            if ts is None:
                continue
            n = streams.index(pkt.stream)
            if pkt.stream.type == "video":
                # the video switches chapter at the cut's keyframe, in decoding order
                t_pts = float((pkt.pts if pkt.pts is not None else ts) * pkt.time_base)
                if (
                    pkt.is_keyframe
                    and video_k + 1 < len(paths)
                    and t_pts >= bounds[video_k + 1] - 1e-6
                ):
                    video_k += 1
                k = video_k
            else:
                t_s = float((pkt.pts if pkt.pts is not None else ts) * pkt.time_base)
                k = max(i for i in range(len(paths)) if t_s >= bounds[i] - 1e-9 or i == 0)
            base = firsts[k].setdefault(n, ts)
            pkt.dts = None if pkt.dts is None else pkt.dts - base
            pkt.pts = None if pkt.pts is None else pkt.pts - base
            pkt.stream = outs[k][n]
            dsts[k].mux(pkt)
        for d in dsts:
            d.close()
    return paths
