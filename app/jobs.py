"""Long jobs (index, sync, then browser proxies) on background threads, with progress the pages poll.

A job is keyed by the sync key (content hashes + tracks), so a page switch or a second tab finds the
running job instead of starting another; the finished result lands in the project's SQLite file.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.state import ProjectStore

log = logging.getLogger(__name__)

#: Browser proxies are served by Streamlit's static serving from here (see .streamlit/config.toml).
STATIC_DIR = Path(__file__).resolve().parent / "static"
PROXY_DIR = STATIC_DIR / "proxies"
PROXY_WIDTH = 960


@dataclass
class Job:
    """Progress and outcome of one background sync."""

    key: str
    stage: str = "queued"
    done: int = 0
    total: int | None = None
    started: float = field(default_factory=time.time)
    timings_s: dict[str, float] = field(default_factory=dict)
    status: str = "running"  # running | ok | failed
    synced: bool = False  # the sync result is stored (proxies may still be in the making)
    error: str | None = None
    thread: threading.Thread | None = None

    @property
    def fraction(self) -> float:
        """Share of the current stage done, 0..1."""
        return min(1.0, self.done / self.total) if self.total else 0.0


_JOBS: dict[str, Job] = {}
_LOCK = threading.Lock()


def sync_key(store: ProjectStore) -> str | None:
    """Key of the sync for the project's current inputs, or None when a video is missing."""
    ref, new = store.video("ref"), store.video("new")
    if ref is None or new is None:
        return None
    parts = [ref.content_hash, new.content_hash, store.track("ref") or "", store.track("new") or ""]
    return "s1:" + hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]


def get_job(key: str) -> Job | None:
    """The job for ``key`` if one ran in this server process."""
    return _JOBS.get(key)


def start_sync(store: ProjectStore) -> Job:
    """Start (or find running) the sync for the project's current inputs."""
    key = sync_key(store)
    if key is None:
        raise ValueError("Add a reference and a new video before syncing.")
    with _LOCK:
        job = _JOBS.get(key)
        if job is not None and job.status == "running":
            return job
        job = Job(key)
        job.thread = threading.Thread(
            target=_run, args=(store.path, key, job), daemon=True, name=f"mtbsync-sync-{key}"
        )
        _JOBS[key] = job
        job.thread.start()
    return job


def proxy_url(proxy_path: str | None) -> str | None:
    """URL under which Streamlit's static serving delivers a proxy file."""
    if not proxy_path or not Path(proxy_path).is_file():
        return None
    return "app/static/proxies/" + Path(proxy_path).name


def _progress(job: Job):
    def cb(ev) -> None:
        total = max(ev.total, ev.done) if ev.total else None  # a count never passes its total
        job.stage, job.done, job.total = ev.stage, ev.done, total

    return cb


def _timed(job: Job, stage: str, fn, *args, **kwargs):
    job.stage, job.done, job.total = stage, 0, None
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    job.timings_s[stage] = round(time.perf_counter() - t0, 3)
    return out


def _ensure_proxy(store: ProjectStore, role: str, job: Job) -> None:
    from mtbsync_core import make_proxy

    row = store.video(role)
    if row is None:
        return
    PROXY_DIR.mkdir(parents=True, exist_ok=True)
    dst = PROXY_DIR / f"{row.content_hash.replace(':', '_')}_{PROXY_WIDTH}.mp4"
    if not dst.exists():
        _timed(
            job,
            f"proxy_{role}",
            make_proxy,
            row.path,
            dst,
            width=PROXY_WIDTH,
            progress=_progress(job),
        )
    store.set_proxy(role, str(dst))


def _load_or_build_index(store: ProjectStore, job: Job):
    from mtbsync_core import MtbSyncError, build_index, load_index, save_index

    ref = store.video("ref")
    path = store.cache_dir / f"index_{ref.content_hash.replace(':', '_')}.npz"
    if path.exists():
        try:
            return _timed(job, "index_load", load_index, path)
        except MtbSyncError as err:  # stale or foreign: rebuild
            log.warning("rebuilding index: %s", err)
    index = _timed(job, "index", build_index, ref.path, progress=_progress(job))
    save_index(index, path, force=True)
    return index


def _read_tracks(store: ProjectStore) -> dict[str, Any]:
    paths = {role: store.track(role) for role in ("ref", "new")}
    if not any(paths.values()):
        return {}
    from mtbsync_core import read_track

    return {f"{role}_track": read_track(p) for role, p in paths.items() if p}


def pairs_to_dict(pairs) -> dict[str, list[float]]:
    """MatchPairs as JSON-able lists."""
    names = ("t_new_s", "t_ref_s", "similarity", "inliers", "confidence")
    return {n: np.asarray(getattr(pairs, n), float).round(5).tolist() for n in names}


def _run(db_path: Path, key: str, job: Job) -> None:
    from mtbsync_core import MtbSyncError, sync_runs

    store = ProjectStore(db_path)
    try:
        index = _load_or_build_index(store, job)
        tracks = _read_tracks(store)
        ref, new = store.video("ref"), store.video("new")
        result = _timed(
            job,
            "sync",
            sync_runs,
            ref.path,
            new.path,
            index=index,
            progress=_progress(job),
            **tracks,
        )
        report = dict(result.report)
        report["app_timings_s"] = dict(job.timings_s)
        store.save_sync(
            key, "ok", report=report, warp=result.warp.to_dict(), pairs=pairs_to_dict(result.pairs)
        )
        job.synced = True  # the warp page can open now; the review page waits for the proxies
        _ensure_proxy(store, "ref", job)
        _ensure_proxy(store, "new", job)
        report["app_timings_s"] = dict(job.timings_s)
        store.save_sync(
            key, "ok", report=report, warp=result.warp.to_dict(), pairs=pairs_to_dict(result.pairs)
        )
        job.status = "ok"
    except MtbSyncError as err:
        job.status, job.error = "failed", str(err)
        store.save_sync(
            key, "failed", error=str(err), report={"app_timings_s": dict(job.timings_s)}
        )
    except Exception as err:  # keep the server alive; the page shows a plain message
        log.exception("sync failed")
        job.status, job.error = "failed", f"Sync failed unexpectedly: {type(err).__name__}: {err}"
        store.save_sync(key, "failed", error=job.error)
    finally:
        job.stage = "done"
