"""Safe output: temp file then rename, refusal without force, normal permissions, content hash."""

from __future__ import annotations

import os
import stat

import pytest

from mtbsync_core.errors import MtbSyncError, OutputExistsError
from mtbsync_core.fileio import (
    atomic_write,
    check_writable,
    content_hash,
    write_bytes_atomic,
    write_text_atomic,
)


class Boom(RuntimeError):
    pass


def test_atomic_write_leaves_nothing_when_the_body_raises(tmp_path):
    target = tmp_path / "out.csv"
    with pytest.raises(Boom), atomic_write(target) as fh:
        fh.write("half a line")
        raise Boom
    assert not target.exists()
    assert list(tmp_path.iterdir()) == []  # no temp file left beside it either


def test_atomic_write_failure_keeps_the_old_file_byte_for_byte(tmp_path):
    target = tmp_path / "out.csv"
    target.write_bytes(b"old,content\n")
    with pytest.raises(Boom), atomic_write(target, force=True) as fh:
        fh.write("new")
        raise Boom
    assert target.read_bytes() == b"old,content\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out.csv"]


def test_atomic_write_writes_text_and_bytes_and_creates_folders(tmp_path):
    p = write_text_atomic(tmp_path / "a" / "b" / "x.txt", "héllo\nline 2\n")
    assert p.read_text(encoding="utf-8") == "héllo\nline 2\n"
    assert b"\r\n" not in p.read_bytes()  # newline="" : exactly what was written
    q = write_bytes_atomic(tmp_path / "y.bin", b"\x00\xff")
    assert q.read_bytes() == b"\x00\xff"


def test_existing_output_is_refused_without_force_and_untouched(tmp_path):
    target = tmp_path / "warp.json"
    target.write_bytes(b'{"keep": 1}')
    with pytest.raises(OutputExistsError) as info:
        write_text_atomic(target, "replaced")
    err = info.value
    assert isinstance(err, MtbSyncError) and err.exit_code == 3
    assert "warp.json" in str(err) and "--force" in str(err)
    assert "\n" not in str(err)
    assert target.read_bytes() == b'{"keep": 1}'
    assert [p.name for p in tmp_path.iterdir()] == ["warp.json"]
    write_text_atomic(target, "replaced", force=True)
    assert target.read_text() == "replaced"


def test_check_writable_passes_new_paths_and_refuses_existing(tmp_path):
    assert check_writable(tmp_path / "new.csv") == tmp_path / "new.csv"
    (tmp_path / "old.csv").write_text("x")
    with pytest.raises(OutputExistsError):
        check_writable(tmp_path / "old.csv")
    assert check_writable(tmp_path / "old.csv", force=True) == tmp_path / "old.csv"


def test_new_files_get_normal_permissions_not_0600(tmp_path):
    old = os.umask(0o022)
    try:
        p = write_text_atomic(tmp_path / "a.txt", "x")
        plain = tmp_path / "plain.txt"
        plain.write_text("x")
    finally:
        os.umask(old)
    mode = stat.S_IMODE(p.stat().st_mode)
    assert mode == stat.S_IMODE(plain.stat().st_mode) == 0o644


def test_content_hash_tells_files_apart_and_is_stable(tmp_path):
    a = tmp_path / "a.bin"
    b = tmp_path / "b.bin"
    data = os.urandom(3 << 20)
    a.write_bytes(data)
    b.write_bytes(data)
    assert content_hash(a) == content_hash(b)
    assert content_hash(a).startswith("q1:")
    # a change in the middle MiB, at the end, or in size is noticed
    for i, change in enumerate(
        (
            data[: len(data) // 2] + b"X" + data[len(data) // 2 + 1 :],
            data[:-1] + bytes([data[-1] ^ 1]),
            data + b"\x00",
        )
    ):
        c = tmp_path / f"c{i}.bin"
        c.write_bytes(change)
        assert content_hash(c) != content_hash(a)
