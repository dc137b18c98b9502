"""Adding inputs to a project (no Streamlit here): each validates with the engine first, so a bad
file raises a one-line MtbSyncError and leaves the project as it was."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from pathlib import Path

from app import jobs
from app.state import ProjectStore, list_projects, project_file

log = logging.getLogger(__name__)

SAMPLE_PROJECT = "sample"
_SAMPLE_LOCK = threading.Lock()
MARKER_SUFFIXES = (".csv", ".edl", ".fcpxml", ".xml")


def _probed(path: str | os.PathLike[str]) -> tuple[Path, str, dict]:
    """A video file's resolved path, content hash and probed info (fps as "num/den")."""
    from mtbsync_core import VideoOpenError, content_hash, probe_video

    p = Path(path).expanduser()
    if not p.is_file():
        raise VideoOpenError(f"No video file at '{p}'. Check the path (it is read on the server).")
    info = probe_video(p)
    d = dataclasses.asdict(info)
    d["fps"] = f"{info.fps.numerator}/{info.fps.denominator}"
    return p.resolve(), content_hash(p), d


def register_video(store: ProjectStore, role: str, path: str | os.PathLike[str]) -> dict:
    """Probe ``path`` and make it the project's ``role`` ("ref"/"new") video; returns its info.

    ``path`` may be a folder holding one GoPro chapter set: it is joined first
    (:func:`join_chapter_folder`) and the joined file is used, so that playback, proxies and
    exports have one file to point at.
    """
    src = Path(path).expanduser()
    if src.is_dir():
        src = join_chapter_folder(store, src)
    p, digest, d = _probed(src)
    store.set_video(role, str(p), digest, d)
    return d


def join_chapter_folder(store: ProjectStore, folder: str | os.PathLike[str]) -> Path:
    """Join the one GoPro chapter set in ``folder`` into the project's ``chapters/`` folder.

    A lossless stream copy of video, audio and telemetry, checked by decoding across each seam
    (:func:`mtbsync_core.video.chapters.join_chapters`); the chapters are left as they are. The
    file is named after the set and its content, so the same set is joined only once. Raises
    :class:`VideoOpenError` when the folder does not hold exactly one set.
    """
    from mtbsync_core import content_hash
    from mtbsync_core.video.chapter_stream import chapter_set_in
    from mtbsync_core.video.chapters import join_chapters

    chapters = chapter_set_in(folder)
    out_dir = store.path.parent / "chapters"
    out_dir.mkdir(exist_ok=True)
    digest = content_hash(folder).split(":")[-1][:12]
    out = out_dir / f"{chapters.key}_{digest}.mp4"
    if not out.exists():
        join_chapters(list(chapters.files), out)
    return out


def chapter_hint(path: str | os.PathLike[str]) -> str | None:
    """A line for a single chapter of a longer GoPro recording: which set, how many files, and
    that its folder gives the whole recording (None for any other path)."""
    from mtbsync_core.video.chapters import chapter_key, find_chapter_sets

    p = Path(path).expanduser()
    if not p.is_file() or chapter_key(p.name) is None:
        return None
    for chapters in find_chapter_sets(p.parent):
        if p in chapters.files and len(chapters) > 1:
            names = ", ".join(f.name for f in chapters.files)
            return (
                f"'{p.name}' is one of {len(chapters)} chapters of recording {chapters.key} "
                f"({names}). Enter the folder '{p.parent}' to use the whole recording."
            )
    return None


def register_run(store: ProjectStore, path: str | os.PathLike[str]) -> str:
    """Probe ``path`` and add it to the trail's runs; returns the run's name."""
    p, digest, d = _probed(path)
    return store.add_run(str(p), digest, d)


def register_markers(
    store: ProjectStore, path: str | os.PathLike[str], start_tc: str | None = None
) -> int:
    """Read reference markers (CSV, or an editor's EDL / FCPXML / Premiere XML); returns the count.

    An EDL carries no frame rate: it is read at the reference video's rate.
    """
    from fractions import Fraction

    from mtbsync_core import read_markers_csv

    p = Path(path)
    if p.suffix.lower() == ".csv":
        markers = read_markers_csv(p)
    else:
        from mtbsync_core import read_markers_file

        ref = store.video("ref")
        fps = Fraction(str(ref.info["fps"])) if ref else None
        markers = read_markers_file(p, fps=fps, start_tc=start_tc or None)
    store.set_ref_markers(list(markers))
    return len(markers)


def register_track(store: ProjectStore, role: str, path: str | os.PathLike[str]) -> None:
    """Check a GPX / FIT track reads, then attach it to ``role``."""
    from mtbsync_core import read_track

    read_track(path)
    store.set_track(role, str(Path(path).resolve()))


def sample_dir() -> Path:
    """Folder with the bundled sample runs ($MTBSYNC_SAMPLE_DIR or ./sample_data)."""
    return Path(os.environ.get("MTBSYNC_SAMPLE_DIR", "sample_data")).resolve()


def ensure_sample_project(base: Path | None = None) -> str | None:
    """Create the "sample" project from the sample data once and start its sync in the background.

    Returns the project name when it exists (or was made), None when there is no sample data.
    """
    if os.environ.get("MTBSYNC_NO_SAMPLE") == "1":
        return None
    with _SAMPLE_LOCK:
        return _ensure_sample(base)


def _ensure_sample(base: Path | None) -> str | None:
    src = sample_dir()
    if SAMPLE_PROJECT in list_projects(base):
        store = ProjectStore(project_file(SAMPLE_PROJECT, base))
        key = jobs.sync_key(store)
        if key is not None and store.sync(key) is None:  # a restart cut its first sync short
            jobs.start_sync(store)
        return SAMPLE_PROJECT
    if not (src / "ref.mp4").is_file() or not (src / "new.mp4").is_file():
        return None
    store = ProjectStore(project_file(SAMPLE_PROJECT, base).with_suffix(".building"))
    register_video(store, "ref", src / "ref.mp4")
    register_video(store, "new", src / "new.mp4")
    for name in ("run2", "run3"):  # more laps for the Runs page
        if (src / f"{name}.mp4").is_file():
            register_run(store, src / f"{name}.mp4")
    if (src / "ref_markers.csv").is_file():
        register_markers(store, src / "ref_markers.csv")
    for role in ("ref", "new"):
        gpx = src / f"{role}.gpx"
        if gpx.is_file():
            try:
                register_track(store, role, gpx)
            except Exception as err:  # a track is optional; sync without it
                log.warning("sample track %s skipped: %s", gpx, err)
    final = project_file(SAMPLE_PROJECT, base)
    store.checkpoint()
    os.replace(store.path, final)  # appears complete or not at all
    jobs.start_sync(ProjectStore(final))
    return SAMPLE_PROJECT
