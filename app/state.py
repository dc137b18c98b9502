"""Project store (one SQLite file per project) and the session keys the pages share.

A project file holds the videos (by path and content hash), the trail's runs (one reference and
any number of runs, each with its latest batch outcome), the reference markers, every sync
result (keyed by the content hashes and parameters that made it), the anchor history and every
marker decision with its time. WAL mode and short connections let two tabs share one project.
Nothing here imports Streamlit, so the store is testable on its own.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mtbsync_core import Marker

#: Session-state keys shared across pages.
K_PROJECT = "mtb_project_path"

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS videos (
  role TEXT PRIMARY KEY, path TEXT NOT NULL, content_hash TEXT NOT NULL,
  info_json TEXT NOT NULL, proxy_path TEXT, added_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS tracks (role TEXT PRIMARY KEY, path TEXT NOT NULL, added_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS ref_markers (
  idx INTEGER PRIMARY KEY, name TEXT NOT NULL, t_ref_s REAL NOT NULL,
  colour TEXT NOT NULL DEFAULT '', comment TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS syncs (
  sync_key TEXT PRIMARY KEY, status TEXT NOT NULL, error TEXT, report_json TEXT,
  warp_json TEXT, pairs_json TEXT, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS anchor_history (
  id INTEGER PRIMARY KEY AUTOINCREMENT, sync_key TEXT NOT NULL, anchors_json TEXT NOT NULL,
  undone INTEGER NOT NULL DEFAULT 0, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (
  id INTEGER PRIMARY KEY AUTOINCREMENT, sync_key TEXT NOT NULL, marker_key TEXT NOT NULL,
  decision TEXT NOT NULL, t_new_s REAL, at REAL NOT NULL);
"""

#: Version 2 added the ``runs`` table; a version-1 file (one reference, one new run) is migrated
#: when it is opened: its new video becomes the project's first run.
SCHEMA_VERSION = 2
RUNS_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
  name TEXT PRIMARY KEY, path TEXT NOT NULL, content_hash TEXT NOT NULL,
  info_json TEXT NOT NULL, outcome_json TEXT, out_dir TEXT, added_at REAL NOT NULL);
"""

DECISIONS = ("accept", "reject", "nudge", "reset")


def default_project_dir() -> Path:
    """``$MTBSYNC_PROJECT_DIR`` or ``./projects``."""
    return Path(os.environ.get("MTBSYNC_PROJECT_DIR", "projects")).resolve()


def project_file(name: str, base: Path | None = None) -> Path:
    """Path of the SQLite file for project ``name`` (letters, digits, ``-_.`` only)."""
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}", name or ""):
        raise ValueError(
            f"Project name {name!r} is not allowed: use letters, digits, '-', '_' or '.' "
            "(up to 64 characters, starting with a letter or digit)."
        )
    return (base or default_project_dir()) / name / "project.sqlite"


def list_projects(base: Path | None = None) -> list[str]:
    """Names of the projects under ``base``, sorted."""
    root = base or default_project_dir()
    if not root.is_dir():
        return []
    return sorted(p.parent.name for p in root.glob("*/project.sqlite"))


def run_name(path: str | os.PathLike[str]) -> str:
    """A run's name in a project: its file name without the extension."""
    return Path(path).stem or "run"


def marker_key(name: str, t_ref_s: float) -> str:
    """A stable identity for a reference marker."""
    return f"{name}@{t_ref_s:.3f}"


@dataclass(frozen=True)
class VideoRow:
    """A video of the project."""

    role: str  # "ref" or "new"
    path: str
    content_hash: str
    info: dict[str, Any]
    proxy_path: str | None


@dataclass(frozen=True)
class RunRow:
    """A run of the trail, with its latest batch outcome (None before any batch)."""

    name: str
    path: str
    content_hash: str
    info: dict[str, Any]
    outcome: dict[str, Any] | None
    out_dir: str | None


class ProjectStore:
    """One project's SQLite file. Every call opens a short connection (safe across threads)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._conn() as con:
            con.execute("PRAGMA journal_mode=WAL")
            con.executescript(SCHEMA)
            cols = {r[1] for r in con.execute("PRAGMA table_info(decisions)")}
            if "undone" not in cols:  # projects made before undo covered decisions
                con.execute("ALTER TABLE decisions ADD COLUMN undone INTEGER NOT NULL DEFAULT 0")
        self._migrate()

    def _migrate(self) -> None:
        """Bring an older project file up to :data:`SCHEMA_VERSION` (in one transaction)."""
        with self._conn() as con:
            row = con.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()
            version = json.loads(row[0]) if row else 1
            if version >= SCHEMA_VERSION:
                return
            con.executescript(RUNS_SCHEMA)
            new = con.execute(
                "SELECT path, content_hash, info_json, added_at FROM videos WHERE role='new'"
            ).fetchone()
            if new is not None:  # v1: the one new run becomes the trail's first run
                con.execute(
                    "INSERT OR IGNORE INTO runs(name, path, content_hash, info_json, added_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (run_name(new[0]), new[0], new[1], new[2], new[3]),
                )
            con.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', ?)",
                (json.dumps(SCHEMA_VERSION),),
            )

    @property
    def name(self) -> str:
        """The project's name (its folder)."""
        return self.path.parent.name

    @property
    def cache_dir(self) -> Path:
        """Folder beside the SQLite file for the index and other derived files."""
        d = self.path.parent / "cache"
        d.mkdir(exist_ok=True)
        return d

    @contextlib.contextmanager
    def _conn(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.path, timeout=10.0)
        try:
            con.execute("PRAGMA busy_timeout=10000")
            with con:  # commits or rolls back
                yield con
        finally:
            con.close()

    def checkpoint(self) -> None:
        """Fold the WAL into the main file (before the file is moved)."""
        with self._conn() as con:
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # --- meta / UI position -------------------------------------------------------------
    def get_meta(self, key: str, default: Any = None) -> Any:
        """A JSON value stored under ``key``."""
        with self._conn() as con:
            row = con.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return json.loads(row[0]) if row else default

    def set_meta(self, key: str, value: Any) -> None:
        """Store a JSON-able value under ``key``."""
        with self._conn() as con:
            con.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, json.dumps(value))
            )

    # --- videos, tracks, markers ----------------------------------------------------------
    def set_video(self, role: str, path: str, content_hash: str, info: dict[str, Any]) -> None:
        """Record the reference (``role="ref"``) or new (``"new"``) video."""
        with self._conn() as con:
            con.execute(
                "INSERT OR REPLACE INTO videos(role, path, content_hash, info_json, proxy_path, added_at)"
                " VALUES (?, ?, ?, ?, NULL, ?)",
                (role, str(path), content_hash, json.dumps(info), time.time()),
            )
        if role == "new":  # the pair's new video is one of the trail's runs
            self.add_run(path, content_hash, info)

    def set_proxy(self, role: str, proxy_path: str) -> None:
        """Record the browser proxy made for a video."""
        with self._conn() as con:
            con.execute("UPDATE videos SET proxy_path=? WHERE role=?", (proxy_path, role))

    def video(self, role: str) -> VideoRow | None:
        """The video in ``role`` or None."""
        with self._conn() as con:
            row = con.execute(
                "SELECT role, path, content_hash, info_json, proxy_path FROM videos WHERE role=?",
                (role,),
            ).fetchone()
        if row is None:
            return None
        return VideoRow(row[0], row[1], row[2], json.loads(row[3]), row[4])

    def set_track(self, role: str, path: str | None) -> None:
        """Record (or with None, forget) a GPS track for ``role``."""
        with self._conn() as con:
            if path is None:
                con.execute("DELETE FROM tracks WHERE role=?", (role,))
            else:
                con.execute(
                    "INSERT OR REPLACE INTO tracks VALUES (?, ?, ?)", (role, str(path), time.time())
                )

    def track(self, role: str) -> str | None:
        """Path of the GPS track for ``role`` or None."""
        with self._conn() as con:
            row = con.execute("SELECT path FROM tracks WHERE role=?", (role,)).fetchone()
        return row[0] if row else None

    def set_ref_markers(self, markers: list[Marker]) -> None:
        """Replace the reference markers (in one transaction)."""
        with self._conn() as con:
            con.execute("DELETE FROM ref_markers")
            con.executemany(
                "INSERT INTO ref_markers(idx, name, t_ref_s, colour, comment) VALUES (?, ?, ?, ?, ?)",
                [(i, m.name, float(m.t_ref_s), m.colour, m.comment) for i, m in enumerate(markers)],
            )

    def ref_markers(self) -> list[Marker]:
        """The reference markers in their file order."""
        with self._conn() as con:
            rows = con.execute(
                "SELECT name, t_ref_s, colour, comment FROM ref_markers ORDER BY idx"
            ).fetchall()
        return [Marker(r[0], r[1], r[2], r[3]) for r in rows]

    # --- runs of the trail ----------------------------------------------------------------
    def add_run(self, path: str, content_hash: str, info: dict[str, Any]) -> str:
        """Add a run (or update the one of that name); returns its name."""
        name = run_name(path)
        with self._conn() as con:
            con.execute(
                "INSERT INTO runs(name, path, content_hash, info_json, added_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT(name) DO UPDATE SET path=excluded.path,"
                " content_hash=excluded.content_hash, info_json=excluded.info_json,"
                " outcome_json=CASE WHEN runs.content_hash=excluded.content_hash"
                " THEN runs.outcome_json END",
                (name, str(path), content_hash, json.dumps(info), time.time()),
            )
        return name

    def remove_run(self, name: str) -> None:
        """Forget a run (its files stay on disk)."""
        with self._conn() as con:
            con.execute("DELETE FROM runs WHERE name=?", (name,))

    def runs(self) -> list[RunRow]:
        """The trail's runs in the order they were added."""
        with self._conn() as con:
            rows = con.execute(
                "SELECT name, path, content_hash, info_json, outcome_json, out_dir FROM runs"
                " ORDER BY added_at, name"
            ).fetchall()
        return [
            RunRow(r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4]) if r[4] else None, r[5])
            for r in rows
        ]

    def set_run_outcome(self, name: str, outcome: dict[str, Any], out_dir: str) -> None:
        """Record a run's latest batch outcome and the folder holding its outputs."""
        with self._conn() as con:
            con.execute(
                "UPDATE runs SET outcome_json=?, out_dir=? WHERE name=?",
                (json.dumps(outcome), str(out_dir), name),
            )

    # --- sync results ---------------------------------------------------------------------
    def save_sync(
        self,
        sync_key: str,
        status: str,
        *,
        report: dict | None = None,
        warp: dict | None = None,
        pairs: dict | None = None,
        error: str | None = None,
    ) -> None:
        """Store the outcome of one sync (``status`` "ok" or "failed")."""
        with self._conn() as con:
            con.execute(
                "INSERT OR REPLACE INTO syncs VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    sync_key,
                    status,
                    error,
                    json.dumps(report) if report is not None else None,
                    json.dumps(warp) if warp is not None else None,
                    json.dumps(pairs) if pairs is not None else None,
                    time.time(),
                ),
            )

    def sync(self, sync_key: str) -> dict[str, Any] | None:
        """A stored sync as a dict (status, error, report, warp, pairs, created_at) or None."""
        with self._conn() as con:
            row = con.execute(
                "SELECT status, error, report_json, warp_json, pairs_json, created_at FROM syncs"
                " WHERE sync_key=?",
                (sync_key,),
            ).fetchone()
        if row is None:
            return None
        loads = lambda s: json.loads(s) if s else None  # noqa: E731
        return {
            "status": row[0],
            "error": row[1],
            "report": loads(row[2]),
            "warp": loads(row[3]),
            "pairs": loads(row[4]),
            "created_at": row[5],
        }

    # --- anchors with undo ----------------------------------------------------------------
    def anchors(self, sync_key: str) -> list[tuple[float, float]]:
        """Current manual anchors (t_new_s, t_ref_s), sorted by t_new_s."""
        with self._conn() as con:
            row = con.execute(
                "SELECT anchors_json FROM anchor_history WHERE sync_key=? AND undone=0 ORDER BY id DESC LIMIT 1",
                (sync_key,),
            ).fetchone()
        return [tuple(a) for a in json.loads(row[0])] if row else []

    def set_anchors(self, sync_key: str, anchors: list[tuple[float, float]]) -> None:
        """Record a new anchor set (the previous one stays for undo)."""
        clean = sorted((round(float(a), 4), round(float(b), 4)) for a, b in anchors)
        with self._conn() as con:
            con.execute(
                "INSERT INTO anchor_history(sync_key, anchors_json, at) VALUES (?, ?, ?)",
                (sync_key, json.dumps(clean), time.time()),
            )

    def undo_anchors(self, sync_key: str) -> bool:
        """Step back to the previous anchor set; False when there is nothing to undo."""
        with self._conn() as con:
            row = con.execute(
                "SELECT id FROM anchor_history WHERE sync_key=? AND undone=0 ORDER BY id DESC LIMIT 1",
                (sync_key,),
            ).fetchone()
            if row is None:
                return False
            con.execute("UPDATE anchor_history SET undone=1 WHERE id=?", (row[0],))
        return True

    # --- marker decisions -----------------------------------------------------------------
    def decide(self, sync_key: str, mkey: str, decision: str, t_new_s: float | None = None) -> None:
        """Append a decision for a marker: accept, reject, nudge (with its new time) or reset."""
        if decision not in DECISIONS:
            raise ValueError(f"Unknown decision {decision!r}; use one of {DECISIONS}.")
        with self._conn() as con:
            con.execute(
                "INSERT INTO decisions(sync_key, marker_key, decision, t_new_s, at) VALUES (?, ?, ?, ?, ?)",
                (sync_key, mkey, decision, t_new_s, time.time()),
            )

    def decisions(self, sync_key: str) -> dict[str, dict[str, Any]]:
        """Latest state per marker: {"status": accept|reject|None, "t_new_s": nudged time|None}."""
        with self._conn() as con:
            rows = con.execute(
                "SELECT marker_key, decision, t_new_s, at FROM decisions"
                " WHERE sync_key=? AND undone=0 ORDER BY id",
                (sync_key,),
            ).fetchall()
        out: dict[str, dict[str, Any]] = {}
        for mkey, decision, t_new_s, at in rows:
            cur = out.setdefault(mkey, {"status": None, "t_new_s": None, "at": at})
            cur["at"] = at
            if decision == "reset":
                cur.update(status=None, t_new_s=None)
            elif decision == "nudge":
                cur["t_new_s"] = t_new_s
            else:
                cur["status"] = decision
        return out

    def decision_log(self, sync_key: str) -> list[tuple[str, str, float | None, float]]:
        """Every decision in force (undone ones left out): (marker_key, decision, t_new_s, time)."""
        with self._conn() as con:
            return con.execute(
                "SELECT marker_key, decision, t_new_s, at FROM decisions"
                " WHERE sync_key=? AND undone=0 ORDER BY id",
                (sync_key,),
            ).fetchall()

    # --- one undo for decisions and anchor edits --------------------------------------------
    def undo_last(self, sync_key: str) -> str | None:
        """Undo the newest decision or anchor edit, whichever came last; says what, or None."""
        with self._conn() as con:
            d = con.execute(
                "SELECT id, at, marker_key, decision FROM decisions"
                " WHERE sync_key=? AND undone=0 ORDER BY id DESC LIMIT 1",
                (sync_key,),
            ).fetchone()
            a = con.execute(
                "SELECT id, at FROM anchor_history WHERE sync_key=? AND undone=0"
                " ORDER BY id DESC LIMIT 1",
                (sync_key,),
            ).fetchone()
            if d is None and a is None:
                return None
            if a is None or (d is not None and d[1] >= a[1]):
                con.execute("UPDATE decisions SET undone=1 WHERE id=?", (d[0],))
                return f"{d[3]} of {d[2].rsplit('@', 1)[0]}"
            con.execute("UPDATE anchor_history SET undone=1 WHERE id=?", (a[0],))
            return "anchor edit"
