"""GoPro chapter sets: find them by name, join them losslessly into one file, check the seams.

A GoPro splits a long recording into chapters of about 4 GB. The names say which files belong
together and in what order:

=========================  ==========================================================
``GX01NNNN.MP4``, ``GX02NNNN.MP4`` ...  HERO6 and later, HEVC (``GH`` for AVC): chapter 01, 02 ...
``GOPRNNNN.MP4``, ``GP01NNNN.MP4`` ...  HERO5 and older: the first chapter, then chapters 1, 2 ...
=========================  ==========================================================

Chapters of one set must also agree on what they are (codec, size, frame rate, and the camera
firmware tag GoPro writes); a file that does not is left out with a warning.
:func:`join_chapters` copies the video, audio and GoPro telemetry (``gpmd``) packets into one
file with continuous timestamps (no re-encoding), and checks by decoding across each seam that
no frame was lost or doubled.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import av

from ..errors import ChapterError
from ..fileio import check_writable

_NEW = re.compile(r"^G([HXL])(\d\d)(\d{4})\.(mp4|MP4|mov|MOV)$")
_OLD_FIRST = re.compile(r"^GOPR(\d{4})\.(mp4|MP4)$")
_OLD_NEXT = re.compile(r"^GP(\d\d)(\d{4})\.(mp4|MP4)$")


@dataclass(frozen=True)
class ChapterSet:
    """One recording's chapter files, in order."""

    key: str  # e.g. "GH-0042" or "GOPR-0042"
    files: tuple[Path, ...]

    def __len__(self) -> int:
        return len(self.files)


def chapter_key(name: str) -> tuple[str, int] | None:
    """``(set key, chapter number)`` from a GoPro file name, or None if it is not one."""
    m = _NEW.match(name)
    if m:
        return f"G{m.group(1)}-{m.group(3)}", int(m.group(2))
    m = _OLD_FIRST.match(name)
    if m:
        return f"GOPR-{m.group(1)}", 0
    m = _OLD_NEXT.match(name)
    if m:
        return f"GOPR-{m.group(2)}", int(m.group(1))
    return None


def find_chapter_sets(
    paths: list[str | os.PathLike[str]] | str | os.PathLike[str],
) -> list[ChapterSet]:
    """Group GoPro files (a folder, or a list of files) into chapter sets, each in order.

    Files whose names are not GoPro chapter names are ignored. A set whose chapters disagree on
    codec, size or rate keeps only the files that agree with its first chapter (with a warning).
    """
    if isinstance(paths, (str, os.PathLike)):
        p = Path(paths)
        files = sorted(x for x in p.iterdir() if x.is_file()) if p.is_dir() else [p]
    else:
        files = [Path(x) for x in paths]
    groups: dict[str, list[tuple[int, Path]]] = {}
    for f in files:
        key = chapter_key(f.name)
        if key is not None:
            groups.setdefault(key[0], []).append((key[1], f))
    out = []
    for key, items in sorted(groups.items()):
        ordered = [f for _, f in sorted(items)]
        out.append(ChapterSet(key, tuple(_consistent(ordered))))
    return out


def _signature(path: Path) -> tuple:
    try:
        with av.open(str(path)) as c:
            if not c.streams.video:
                return ("no video",)
            v = c.streams.video[0]
            return (
                v.codec_context.name,
                v.width,
                v.height,
                str(v.average_rate),
                c.metadata.get("firmware", ""),
            )
    except (av.error.FFmpegError, OSError):
        return ("unreadable",)


def _consistent(files: list[Path]) -> list[Path]:
    first = _signature(files[0])
    keep = [files[0]]
    for f in files[1:]:
        sig = _signature(f)
        if sig == first:
            keep.append(f)
        else:
            warnings.warn(
                f"'{f.name}' is named as a chapter of '{files[0].name}' but is another kind of "
                f"video ({sig} vs {first}); left out of the set.",
                stacklevel=3,
            )
    return keep


def _wanted(stream: av.stream.Stream) -> bool:
    if stream.type in ("video", "audio"):
        return True
    return stream.type == "data" and "MET" in stream.metadata.get("handler_name", "")


def join_chapters(
    files: list[str | os.PathLike[str]], out: str | os.PathLike[str], force: bool = False
) -> Path:
    """Copy the chapters' video, audio and telemetry packets into ``out`` (no re-encoding).

    Each stream's timestamps continue where the previous chapter's stream ended. The file is
    written beside ``out`` under a temporary name, checked with :func:`verify_join`, then
    renamed. Raises :class:`ChapterError` when the chapters do not have the same streams.
    """
    paths = [Path(f) for f in files]
    if len(paths) < 2:
        raise ChapterError(
            f"Joining needs two or more chapters, got {len(paths)}. Pass every chapter file."
        )
    target = check_writable(out, force)
    tmp = target.with_name(f".{target.name}.part{target.suffix}")
    try:
        _copy_packets(paths, tmp)
        verify_join(paths, tmp)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()
    return target


def _copy_packets(paths: list[Path], tmp: Path) -> None:
    layout = None
    with av.open(str(tmp), "w", format="mp4") as dst:
        outs = None
        offsets: list[int] = []
        for path in paths:
            with av.open(str(path)) as src:
                streams = [s for s in src.streams if _wanted(s)]
                kinds = [s.type for s in streams]
                if layout is None:
                    layout = kinds
                    outs = [dst.add_stream_from_template(s) for s in streams]
                    offsets = [0] * len(streams)
                elif kinds != layout:
                    raise ChapterError(
                        f"Chapter '{path.name}' has streams {kinds} but '{paths[0].name}' has {layout}. "
                        "Join only chapters of one recording."
                    )
                ends = list(offsets)
                index = {s.index: n for n, s in enumerate(streams)}
                first = {n: None for n in range(len(streams))}
                for pkt in src.demux(streams):
                    if pkt.dts is None and pkt.pts is None:
                        continue
                    n = index[pkt.stream.index]
                    if first[n] is None:
                        first[n] = pkt.dts if pkt.dts is not None else pkt.pts
                    shift = offsets[n] - first[n]
                    if pkt.pts is not None:
                        pkt.pts += shift
                    if pkt.dts is not None:
                        pkt.dts += shift
                    # decoding-order end: with B-frames the next chapter's dts continue from here
                    end = (pkt.dts if pkt.dts is not None else pkt.pts) + (pkt.duration or 0)
                    ends[n] = max(ends[n], end)
                    pkt.stream = outs[n]
                    dst.mux(pkt)
                offsets = ends


@dataclass(frozen=True)
class SeamCheck:
    """What decoding across the seams found."""

    frames_in: int  # frames decoded from the chapters
    frames_out: int  # frames decoded from the joined file
    seams_s: tuple[float, ...]  # where each seam lies in the joined file


def verify_join(chapters: list[Path], joined: Path) -> SeamCheck:
    """Decode the chapters and the joined file; every frame must come out the same, in order,
    with timestamps rising across each seam. Raises :class:`ChapterError` otherwise."""
    import hashlib

    def digests(path: Path) -> tuple[list[str], list[float]]:
        hs, ts = [], []
        with av.open(str(path)) as c:
            st = c.streams.video[0]
            st.thread_type = "AUTO"
            for frame in c.decode(st):
                hs.append(hashlib.blake2s(frame.planes[0]).hexdigest())
                ts.append(float(frame.time or 0.0))
        return hs, ts

    want: list[str] = []
    seams = []
    for ch in chapters:
        hs, _ = digests(ch)
        if want:
            seams.append(len(want))
        want += hs
    got, times = digests(joined)
    if got != want:
        lost = len(want) - len(got)
        where = next(
            (i for i, (a, b) in enumerate(zip(want, got, strict=False)) if a != b),
            min(len(want), len(got)),
        )
        raise ChapterError(
            f"Joined '{joined.name}' differs from its chapters at frame {where} "
            f"({'lost' if lost > 0 else 'doubled'} {abs(lost)} frames). Check the chapters are complete."
        )
    if any(b <= a for a, b in zip(times, times[1:], strict=False)):
        raise ChapterError(f"Joined '{joined.name}' has timestamps that do not rise across a seam.")
    return SeamCheck(len(want), len(got), tuple(times[i] for i in seams))
