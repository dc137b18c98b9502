"""Safe output: write to a temporary file beside the target, then rename; refuse to overwrite."""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from .errors import OutputError, OutputExistsError


def check_writable(path: str | os.PathLike[str], force: bool = False) -> Path:
    """Refuse an existing output unless ``force``; return the path."""
    p = Path(path)
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
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


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
