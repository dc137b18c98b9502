"""Start the real app headless on 127.0.0.1 (free port, temp project folder) for chromium to drive."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> None:
    """Skip (with the reason printed) when Debian's chromium is missing, unless CI requires it."""
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium)"
    if os.environ.get("MTBSYNC_REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " — MTBSYNC_REQUIRE_BROWSER=1 requires the browser tests to run")
    print(f"SKIP browser tests: {reason}")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(project_dir: Path, sample_dir: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    """Launch ``streamlit run`` and wait until it answers; returns (process, base URL)."""
    port = free_port()
    env = {
        **os.environ,
        "MTBSYNC_PROJECT_DIR": str(project_dir),
        "MTBSYNC_SAMPLE_DIR": str(sample_dir),
    }
    env.pop("MTBSYNC_NO_SAMPLE", None)
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app" / "streamlit_app.py"),
        "--server.address",
        "127.0.0.1",
        "--server.port",
        str(port),
        "--server.headless",
        "true",
    ]
    log = log_path.open("w")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early: {log_path.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=2) as r:
                if r.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("streamlit did not answer within 60 s")


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def sample_clips(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sample_data-like folder: ref.mp4, new.mp4 (known warp), ref_markers.csv (320x180, 10 s)."""
    from mtbsync_core.synthetic import (
        RenderSpec,
        WarpProfile,
        make_trail,
        render_new,
        render_reference,
    )

    d = tmp_path_factory.mktemp("sample")
    trail = make_trail()
    spec = RenderSpec(duration_s=10.0, size=(320, 180))
    render_reference(d / "ref.mp4", trail, spec)
    render_new(
        d / "new.mp4", trail, WarpProfile(t_ref_start_s=0.5, mean_ratio=0.85, wobble=0.1), spec
    )
    (d / "ref_markers.csv").write_text(
        "name,t_ref\nrock garden,2.0\ndrop,4.0\nroot,6.0\nsplit 2,8.0\n", encoding="utf-8"
    )
    return d


class AppServer:
    """The app as a subprocess; ``restart()`` stops it and starts a new one on the same projects."""

    def __init__(self, project_dir: Path, sample_dir: Path, log_dir: Path) -> None:
        self.project_dir, self.sample_dir, self.log_dir = project_dir, sample_dir, log_dir
        self.starts = 0
        self.proc, self.base = self._start()

    def _start(self) -> tuple[subprocess.Popen, str]:
        self.starts += 1
        return start_app(
            self.project_dir, self.sample_dir, self.log_dir / f"streamlit{self.starts}.log"
        )

    def restart(self) -> None:
        stop_app(self.proc)
        self.proc, self.base = self._start()

    def stop(self) -> None:
        stop_app(self.proc)


@pytest.fixture(scope="module")
def app_server(sample_clips: Path, tmp_path_factory: pytest.TempPathFactory):
    """A running app whose first start made the "sample" project (shared by the module's tests)."""
    require_chromium()
    d = tmp_path_factory.mktemp("server")
    server = AppServer(d / "projects", sample_clips, d)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def browser():
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def app_server_on(tmp_path_factory: pytest.TempPathFactory):
    """A factory: ``app_server_on(sample_dir)`` starts the app on another sample folder (stopped
    at the end of the module)."""
    servers: list[AppServer] = []

    def make(sample_dir: Path) -> AppServer:
        require_chromium()
        d = tmp_path_factory.mktemp("server")
        servers.append(AppServer(d / "projects", sample_dir, d))
        return servers[-1]

    yield make
    for server in servers:
        server.stop()
