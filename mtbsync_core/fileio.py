"""Safe output: write to a temporary file beside the target, then rename; refuse to overwrite."""

from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import OutputError, OutputExistsError, OutputLockedError


def check_writable(path: str | os.PathLike[str], force: bool = False) -> Path:
    """Refuse an existing output unless ``force``; return the path."""
    p = Path(path)
    if p.is_dir():
        raise OutputError(f"Output '{p}' is a folder. Give a file path, e.g. '{p / 'out'}'.")
    if p.exists() and not force:
        raise OutputExistsError(
            f"Output '{p}' exists. Pass --force to overwrite it, or choose another path."
        )
    return p


@contextlib.contextmanager
def atomic_write(
    path: str | os.PathLike[str],
    mode: str = "w",
    force: bool = False,
    encoding: str | None = "utf-8",
) -> Iterator[IO]:
    """Open a temp file beside ``path``; on success rename it over ``path``, else delete it.

    Nothing half-written is ever left at ``path``.
    """
    p = check_writable(path, force)
    try:
        p.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".part", dir=p.parent)
    except OSError as err:
        raise OutputError(
            f"Cannot write '{p}' ({err.strerror or err}). Choose a folder you can write to."
        ) from err
    os.chmod(tmp, _default_mode())
    try:
        kwargs = {} if "b" in mode else {"encoding": encoding, "newline": ""}
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, p)
    except BaseException as err:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(err, OSError) and err.errno in _WRITE_ERRNOS:
            raise _write_error(p, err) from err
        raise


_WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EIO)


def _write_error(p: Path, err: OSError) -> OutputError:
    """One line for a failed write (a full disk, a file too large, no permission)."""
    why = "the disk is full" if err.errno != errno.EROFS else "the disk is read-only"
    return OutputError(
        f"Could not write '{p}' ({why}); nothing was left half-written. Free space or choose "
        "another folder."
    )


def _default_mode() -> int:
    """Permissions a plain ``open()`` would give a new file (0o666 less the umask)."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_text_atomic(path: str | os.PathLike[str], text: str, force: bool = False) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, "w", force=force) as fh:
        fh.write(text)
    return Path(path)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, force: bool = False) -> Path:
    """Write ``data`` to ``path`` atomically."""
    with atomic_write(path, "wb", force=force, encoding=None) as fh:
        fh.write(data)
    return Path(path)


def content_hash(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """A fast content fingerprint: SHA-256 of size + first, middle and last MiB.

    Enough to tell two camera files apart and to notice a replaced file, without reading
    gigabytes. Prefixed ``q1:`` so a full hash could be added later.
    """
    p = Path(path)
    if p.is_dir():  # a chapter set opened as one video: the fingerprints of its files, in order
        parts = [
            content_hash(f)
            for f in sorted(p.iterdir())
            if f.is_file() and f.suffix.lower() in (".mp4", ".mov")
        ]
        return "q1:" + hashlib.sha256("".join(parts).encode()).hexdigest()[:32]
    size = p.stat().st_size
    h = hashlib.sha256(str(size).encode())
    with p.open("rb") as fh:
        for off in sorted({0, max(0, size // 2 - chunk // 2), max(0, size - chunk)}):
            fh.seek(off)
            h.update(fh.read(chunk))
    return "q1:" + h.hexdigest()[:32]


#: Present in an output folder only while a set of files is being renamed into it.
INCOMPLETE_MARK = ".mtbsync-incomplete"


def check_set_writable(out_dir: str | os.PathLike[str], names: list[str], force: bool) -> None:
    """Refuse existing outputs in ``out_dir`` unless ``force`` or left by an interrupted write."""
    d = Path(out_dir)
    if d.exists() and not d.is_dir():
        raise OutputError(f"Output folder '{d}' is a file. Give a folder path.")
    interrupted = (d / INCOMPLETE_MARK).exists()
    for name in names:
        check_writable(d / name, force or interrupted)


def write_set_atomic(
    out_dir: str | os.PathLike[str], files: dict[str, str | bytes], force: bool = False
) -> dict[str, Path]:
    """Write several files into ``out_dir`` as one set: all of them, or none.

    A new (or empty) folder is built beside itself under a temporary name and renamed once. Into
    a folder that holds other files, the set is written to a hidden temporary folder inside it,
    then renamed file by file under an ``INCOMPLETE_MARK`` that is removed last; a rerun treats
    files left under that mark as absent (no ``--force`` needed).
    """
    d = Path(out_dir)
    check_set_writable(d, list(files), force)
    try:
        d.parent.mkdir(parents=True, exist_ok=True)
        fresh = not d.exists() or not any(d.iterdir())
        tmp = Path(
            tempfile.mkdtemp(prefix=f".{d.name}.", suffix=".part", dir=d.parent if fresh else d)
        )
    except OSError as err:
        raise OutputError(
            f"Cannot write into '{d}' ({err.strerror or err}). Choose a folder you can write to."
        ) from err
    try:
        for name, data in files.items():
            _write_synced(tmp / name, data)
        if fresh:
            if d.exists():
                d.rmdir()
            os.rename(tmp, d)
        else:
            _write_synced(d / INCOMPLETE_MARK, b"")
            for name in files:
                os.replace(tmp / name, d / name)
            os.unlink(d / INCOMPLETE_MARK)
            tmp.rmdir()
        _fsync_dir(d.parent if fresh else d)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        if err.errno in _WRITE_ERRNOS:
            raise _write_error(d, err) from err
        raise OutputError(
            f"Could not write into '{d}' ({err.strerror or err}). Choose another folder."
        ) from err
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return {name: d / name for name in files}


def _write_synced(path: Path, data: str | bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        fh.flush()
        os.fsync(fh.fileno())
    os.chmod(path, _default_mode())


def _fsync_dir(d: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(d, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def output_lock(out_dir: str | os.PathLike[str]) -> Iterator[None]:
    """Hold an exclusive lock on ``out_dir`` (a hidden file beside it) for a whole run.

    A second run to the same folder is refused at once instead of doing all the work and racing
    on the renames. The lock is the operating system's (``flock``): it goes with the process,
    so a killed run never leaves the folder locked.
    """
    import fcntl

    d = Path(out_dir).absolute()
    d.parent.mkdir(parents=True, exist_ok=True)
    lock = d.parent / f".{d.name}.lock"
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise OutputLockedError(
                f"Another mtbsync run is writing '{out_dir}'. Wait for it to finish, or choose "
                "another --out."
            ) from None
        _remove_stale_parts(d)
        yield
    finally:
        os.close(fd)


def _remove_stale_parts(d: Path) -> None:
    """Temporary folders of an earlier, killed write of ``d`` (only the lock holder may do this)."""
    stale = [*d.parent.glob(f".{glob.escape(d.name)}.*.part")]
    if d.is_dir():
        stale += d.glob(f".{glob.escape(d.name)}.*.part")
    for p in stale:
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
