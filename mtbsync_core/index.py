"""ReferenceIndex: a reference run sampled and described once, saved as a versioned ``.npz``.

An index remembers the content hash of the video it was built from and the sampling
parameters; :func:`check_index` refuses a stale one with a message that says what to do.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
import zlib
from dataclasses import asdict, dataclass
from fractions import Fraction
from pathlib import Path

import numpy as np

from .errors import IndexFileError, IndexMismatchError
from .features import OrbFeatures
from .fileio import content_hash, write_bytes_atomic
from .model import Keyframes, VideoInfo
from .progress import ProgressCallback
from .sampling import SampleParams, sample_run

INDEX_FORMAT = "mtbsync.index"
# 2: patch-normalised + gradient-histogram global descriptors; 3: row profiles (another line)
INDEX_VERSION = 3


@dataclass(frozen=True)
class ReferenceIndex:
    """A sampled reference run: keyframes, ORB features, and where they came from."""

    keyframes: Keyframes
    orbs: dict[int, OrbFeatures]
    source_hash: str
    params: SampleParams

    @property
    def info(self) -> VideoInfo:
        """The reference video's probe."""
        return self.keyframes.info


def build_index(
    ref_path: str | os.PathLike[str],
    params: SampleParams | None = None,
    progress: ProgressCallback | None = None,
) -> ReferenceIndex:
    """Sample and describe the reference run at ``ref_path``."""
    params = params or SampleParams()
    kf, orbs, _ = sample_run(ref_path, params, stage="index", progress=progress, with_rows=True)
    return ReferenceIndex(kf, orbs, content_hash(ref_path), params)


def _info_to_json(info: VideoInfo) -> dict:
    d = asdict(info)
    d["fps"] = f"{info.fps.numerator}/{info.fps.denominator}"
    return d


def _info_from_json(d: dict) -> VideoInfo:
    d = dict(d)
    d["fps"] = Fraction(d["fps"])
    return VideoInfo(**d)


def index_to_bytes(index: ReferenceIndex) -> bytes:
    """Serialise ``index`` as ``.npz`` bytes."""
    keys = sorted(index.orbs)
    counts = np.array([len(index.orbs[k].desc) for k in keys], np.int64)
    meta = {
        "format": INDEX_FORMAT,
        "version": INDEX_VERSION,
        "source_hash": index.source_hash,
        "params": asdict(index.params),
        "info": _info_to_json(index.info),
    }
    buf = io.BytesIO()
    np.savez_compressed(
        buf,
        meta=np.array(json.dumps(meta)),
        t_s=index.keyframes.t_s,
        desc=index.keyframes.desc,
        thumbs=index.keyframes.thumbs,
        rows=index.keyframes.rows
        if index.keyframes.rows is not None
        else np.zeros((0, 0), np.float32),
        orb_keys=np.array(keys, np.int64),
        orb_counts=counts,
        orb_xy=np.concatenate([index.orbs[k].xy for k in keys])
        if keys
        else np.zeros((0, 2), np.float32),
        orb_desc=np.concatenate([index.orbs[k].desc for k in keys])
        if keys
        else np.zeros((0, 32), np.uint8),
    )
    return buf.getvalue()


def save_index(index: ReferenceIndex, path: str | os.PathLike[str], force: bool = False) -> Path:
    """Write ``index`` to ``path`` (atomically; refuses an existing file unless ``force``)."""
    return write_bytes_atomic(path, index_to_bytes(index), force=force)


def load_index(path: str | os.PathLike[str]) -> ReferenceIndex:
    """Read an index written by :func:`save_index` (raises :class:`IndexFileError`)."""
    p = Path(path)
    if not p.exists():
        raise IndexFileError(f"Index '{p}' does not exist. Build one with `mtbsync index`.")
    try:
        with np.load(p, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: z[k] for k in z.files if k != "meta"}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        raise IndexFileError(
            f"Index '{p}' is not a readable mtbsync index ({err}). Rebuild it with `mtbsync index`."
        ) from err
    if meta.get("format") != INDEX_FORMAT or meta.get("version") != INDEX_VERSION:
        raise IndexFileError(
            f"Index '{p}' is format {meta.get('format')!r} version {meta.get('version')!r}; "
            f"this mtbsync reads {INDEX_FORMAT!r} version {INDEX_VERSION}. Rebuild it with `mtbsync index`."
        )
    try:
        offsets = np.concatenate([[0], np.cumsum(arrays["orb_counts"])])
        orbs = {
            int(k): OrbFeatures(
                arrays["orb_xy"][offsets[i] : offsets[i + 1]],
                arrays["orb_desc"][offsets[i] : offsets[i + 1]],
            )
            for i, k in enumerate(arrays["orb_keys"])
        }
        rows = arrays["rows"] if arrays["rows"].size else None
        kf = Keyframes(
            arrays["t_s"], arrays["desc"], arrays["thumbs"], _info_from_json(meta["info"]), rows
        )
        return ReferenceIndex(kf, orbs, meta["source_hash"], SampleParams(**meta["params"]))
    except (KeyError, TypeError, ValueError) as err:
        raise IndexFileError(
            f"Index '{p}' is missing or has a malformed field ({err}). Rebuild it with `mtbsync index`."
        ) from err


def check_index(
    index: ReferenceIndex,
    ref_path: str | os.PathLike[str],
    params: SampleParams | None = None,
    index_path: str | os.PathLike[str] = "the index",
) -> None:
    """Raise :class:`IndexMismatchError` unless ``index`` was built from ``ref_path`` with ``params``."""
    h = content_hash(ref_path)
    if h != index.source_hash:
        raise IndexMismatchError(
            f"Index '{index_path}' was built from another file than '{ref_path}' (or the file changed). "
            "Rebuild it: mtbsync index --reference REF --out INDEX --force"
        )
    if params is not None and params != index.params:
        raise IndexMismatchError(
            f"Index '{index_path}' was built with {asdict(index.params)}, not {asdict(params)}. "
            "Rebuild it with the same settings, or drop --index."
        )
