"""Issue 13, items 2 and 3: the app binds to this computer only; uploads never overwrite."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app import ui
from app.project_ops import register_video
from app.state import ProjectStore, project_file

ROOT = Path(__file__).resolve().parents[2]


class _Upload:
    """What ``st.file_uploader`` hands the page: a name and the bytes."""

    def __init__(self, name: str, data: bytes) -> None:
        self.name, self._data = name, data

    def getbuffer(self) -> memoryview:
        return memoryview(self._data)


def test_item03_same_name_uploads_stay_two_files(tmp_path, clips):
    store = ProjectStore(project_file("ride", tmp_path))
    ref = ui.saved_upload(store, _Upload("GX010001.MP4", clips["ref"].read_bytes()))
    register_video(store, "ref", ref)
    ref_hash = store.video("ref").content_hash
    new = ui.saved_upload(store, _Upload("GX010001.MP4", clips["new"].read_bytes()))
    register_video(store, "new", new)
    assert ref != new and ref.parent == new.parent
    assert ref.read_bytes() == clips["ref"].read_bytes()  # the reference was not overwritten
    assert new.read_bytes() == clips["new"].read_bytes()
    assert store.video("ref").content_hash == ref_hash != store.video("new").content_hash


@pytest.mark.parametrize("name", [".", "..", "../../evil.mp4", "/etc/passwd", "", ".hidden.mp4"])
def test_item03_odd_upload_names_stay_in_uploads(tmp_path, name):
    store = ProjectStore(project_file("ride", tmp_path))
    p = ui.saved_upload(store, _Upload(name, b"bytes"))
    uploads = store.path.parent / "uploads"
    assert p.parent == uploads and p.read_bytes() == b"bytes" and not p.name.startswith(".")
    assert [q.name for q in uploads.iterdir()] == [p.name]  # no .part left behind


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening(port: int) -> set[str]:
    """Local addresses listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            addr, p = local.split(":")
            if int(p, 16) == port and state == "0A":
                found.add("loopback" if addr in ("0100007F", "0" * 24 + "01000000") else addr)
    return found


@pytest.mark.slow
def test_item02_launcher_binds_loopback_from_any_folder(tmp_path):
    if not os.path.exists("/proc/net/tcp"):
        pytest.skip("needs /proc/net/tcp to see which address the server listens on")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MTBSYNC_PROJECT_DIR": str(tmp_path / "p")}
    cmd = [sys.executable, str(ROOT / "app" / "launch.py"), "--server.port", str(port)]
    proc = subprocess.Popen(
        cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 60
        while not _listening(port) and time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()
            time.sleep(0.2)
        assert _listening(port) == {"loopback"}
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_item02_remote_address_refused_by_launcher(tmp_path):
    cmd = [sys.executable, str(ROOT / "app" / "launch.py"), "--server.address", "0.0.0.0"]
    res = subprocess.run(
        cmd,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "MTBSYNC_ALLOW_REMOTE": ""},
    )
    assert res.returncode == 2 and "MTBSYNC_ALLOW_REMOTE" in res.stderr


def test_item02_guard_on_pages():
    assert (
        ui.bind_is_local("127.0.0.1") and ui.bind_is_local("localhost") and ui.bind_is_local("::1")
    )
    assert not ui.bind_is_local("") and not ui.bind_is_local(None)
    assert not ui.bind_is_local("0.0.0.0") and not ui.bind_is_local("192.168.1.4")
