"""Issue 13 item 2, in the real browser: started outside the repository root (so listening on
every interface), the app shows no page, only how to start it safely."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_item02_app_on_every_interface_shows_no_page(browser, tmp_path):
    port = _free_port()  # the browser fixture skips with the reason when chromium is missing
    env = {
        **os.environ,
        "MTBSYNC_PROJECT_DIR": str(tmp_path / "projects"),
        "MTBSYNC_NO_SAMPLE": "1",
    }
    env.pop("MTBSYNC_ALLOW_REMOTE", None)
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(ROOT / "app" / "streamlit_app.py"),
        "--server.port",
        str(port),
        "--server.headless",
        "true",
    ]  # no address: all interfaces
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "streamlit.log").read_text()[-2000:]
            try:
                with urllib.request.urlopen(base + "/_stcore/health", timeout=2):
                    break
            except OSError:
                assert time.time() < deadline, "streamlit did not answer"
                time.sleep(0.5)
        page = browser.new_page()
        page.goto(base)
        page.get_by_text("listening on every network interface").wait_for(timeout=60_000)
        assert page.get_by_text("New project name").count() == 0
        assert page.get_by_text("python app/launch.py").count() >= 1
        page.close()
    finally:
        proc.terminate()
        proc.wait(timeout=20)
