"""``mtbsync stitch`` and ``mtbsync chapters join``: one clean run from split or redundant recordings."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .common import progress_for


def _crop(text: str) -> tuple[int, int | None]:
    start, sep, end = text.partition(":")
    try:
        if not sep:
            raise ValueError
        a = int(start) if start else 0
        b = int(end) if end else None
        if a < 0 or (b is not None and b <= a):
            raise ValueError
        return a, b
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"crop {text!r} must be START:END frame numbers with END > START, e.g. 100:2500 or 100:"
        ) from None


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``stitch`` and ``chapters`` (with ``join`` and ``list``) to ``sub``."""
    p = sub.add_parser(
        "stitch",
        help="one clean video from several damaged copies of one recording",
        description="For each frame, keep the copy the damage detector finds intact (copies are "
        "compared with each other); write stitched video, frames.csv and missing.csv into --out.",
    )
    p.add_argument(
        "recordings", nargs="+", metavar="REC", help="copies of one recording (two or more)"
    )
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument(
        "--metadata",
        nargs="+",
        metavar="CSV",
        help="one per-frame metadata CSV per copy, in order (mio format)",
    )
    p.add_argument(
        "--metadata-columns",
        metavar="MAP",
        help="other column names, e.g. frame_num=frame_id,padding=pad_px",
    )
    p.add_argument(
        "--align",
        choices=("auto", "metadata", "pts", "content"),
        default="auto",
        help="how frames are matched across copies (default: metadata if given, else PTS)",
    )
    p.add_argument(
        "--crop", type=_crop, metavar="START:END", help="keep frame numbers START <= n < END"
    )
    p.add_argument(
        "--codec",
        choices=("ffv1", "utvideo", "h264", "h264-lossless"),
        default="ffv1",
        help="stitched video: lossless FFV1 in Matroska (default), lossless Ut Video in AVI "
        "(about 5x cheaper to encode, 1.5x larger), H.264 MP4, lossless H.264",
    )
    p.add_argument(
        "--debug",
        "--debug-video",
        dest="debug_video",
        action="store_true",
        help="also write a side-by-side video of the copies with the chosen one outlined",
    )
    p.add_argument(
        "--no-video",
        dest="no_video",
        action="store_true",
        help="write only frames.csv and missing.csv (which copy is good where), no stitched video",
    )
    p.add_argument("--force", action="store_true", help="overwrite existing outputs")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_stitch)

    c = sub.add_parser("chapters", help="GoPro chapter files: list sets, join a set into one file")
    csub = c.add_subparsers(dest="chapters_command", metavar="ACTION", required=True)
    j = csub.add_parser("join", help="join one chapter set losslessly (video, audio, telemetry)")
    j.add_argument(
        "inputs",
        nargs="+",
        metavar="DIR_OR_FILES",
        help="a folder with one chapter set, or its files",
    )
    j.add_argument("--out", required=True, help="joined MP4")
    j.add_argument("--force", action="store_true", help="overwrite an existing output")
    j.set_defaults(func=cmd_join)
    ls = csub.add_parser("list", help="list the chapter sets in a folder")
    ls.add_argument("folder")
    ls.set_defaults(func=cmd_list)


def cmd_stitch(args: argparse.Namespace) -> int:
    """Run a stitch and print a summary."""
    from ..stitch import parse_column_map, stitch_recordings

    if len(args.recordings) < 2:
        print("mtbsync: error: stitch needs two or more copies of the recording", file=sys.stderr)
        return 2
    try:
        columns = parse_column_map(args.metadata_columns)
    except ValueError as err:
        print(f"mtbsync: error: {err}", file=sys.stderr)
        return 2
    res = stitch_recordings(
        args.recordings,
        args.out,
        metadata=args.metadata,
        metadata_columns=columns,
        align=args.align,
        crop=args.crop,
        codec=None if args.no_video else args.codec,
        debug=args.debug_video,
        force=args.force,
        progress=progress_for(args),
    )
    replaced = int((res.source_copy != 0).sum())
    verb = "checked" if args.no_video else "stitched"
    print(
        f"{verb} {res.n_frames} frames from {len(res.copies)} copies (aligned by {res.align}); "
        f"{replaced} taken from a copy other than the first; {len(res.missing)} missing and "
        f"{len(res.damaged_everywhere)} damaged in every copy (listed in {res.files['missing'].name})"
    )
    for role, path in res.files.items():
        print(f"  {role:<9} {path}")
    return 0


def _one_set(inputs: list[str]):
    from ..errors import ChapterError
    from ..video.chapters import find_chapter_sets

    sets = find_chapter_sets(inputs[0] if len(inputs) == 1 and Path(inputs[0]).is_dir() else inputs)
    if len(sets) != 1 or len(sets[0]) < 2:
        found = ", ".join(f"{s.key} ({len(s)} files)" for s in sets) or "none"
        raise ChapterError(
            f"Expected one GoPro chapter set of two or more files in {' '.join(inputs)}; found: {found}. "
            "Pass the chapter files of one recording (GX01NNNN.MP4, GX02NNNN.MP4 ...)."
        )
    return sets[0]


def cmd_join(args: argparse.Namespace) -> int:
    """Join one chapter set."""
    from ..video.chapters import join_chapters

    chapter_set = _one_set(args.inputs)
    out = join_chapters(list(chapter_set.files), args.out, force=args.force)
    names = " + ".join(f.name for f in chapter_set.files)
    print(f"joined {names} -> {out} (every seam decoded: no frame lost or doubled)")
    return 0


def cmd_list(args: argparse.Namespace) -> int:
    """List chapter sets in a folder."""
    from ..video.chapters import find_chapter_sets

    sets = find_chapter_sets(args.folder)
    if not sets:
        print(f"no GoPro chapter files in {args.folder}")
    for s in sets:
        print(f"{s.key}: " + " ".join(f.name for f in s.files))
    return 0
