"""Scrubbing latency on the review page, for 1080p sources, in a real browser.

Figure: p95 time from moving the scrub control (an ``input`` event) until BOTH videos presented
the new frame (``requestVideoFrameCallback``), over random scrub positions. The review page plays
960-px H.264 proxies made at sync time. Baseline measured in the same run: rendering the two
frames on the server from the 1080p originals (``open_video().frame_at`` + JPEG encode), which is
what a server-rendered scrubber does per step, timed in the same browser as a Streamlit round trip
(bench/scrub_server_app.py), and without transfer as decode + JPEG alone. Target: p95 <= 150 ms.

Second figure: pin-to-refit-drawn on the Review page: unlink the reference, scrub it, press "Pin
as anchor"; ms from the click until the player holds the refitted warp and relinked (recorded in
the page, window.__mtbPin). Baseline in the same run: the Warp page's click-to-add anchor until
the refitted warp is drawn. Target: p95 <= 500 ms.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CACHE = Path(__file__).resolve().parent / ".cache" / "scrub"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TARGET_P95_MS = 150.0
TARGET_PIN_P95_MS = 500.0

PIN_JS = """async ([tNew, dRef]) => {
  const st = document.querySelector('.mtb-dual').parentElement.__mtbDual, d = st.data;
  const sleep = (ms) => new Promise(r => setTimeout(r, ms));
  const toRef = (t) => { for (let i = 1; i < d.warp_new.length; i++) if (d.warp_new[i] >= t) {
      const f = (t - d.warp_new[i-1]) / (d.warp_new[i] - d.warp_new[i-1]);
      return d.warp_ref[i-1] + f * (d.warp_ref[i] - d.warp_ref[i-1]); } return NaN; };
  st.scrub.value = String(tNew); st.scrub.dispatchEvent(new Event('input', {bubbles: true}));
  await sleep(150);
  if (st.linked) st.root.querySelector('.unlink').click();
  const ref = st.root.querySelector('.scrub-ref');
  ref.value = String(toRef(tNew) + dRef); ref.dispatchEvent(new Event('input', {bubbles: true}));
  await sleep(150);
  const before = (window.__mtbPin || []).length;
  st.root.querySelector('.pin').click();
  const t0 = performance.now();
  while ((window.__mtbPin || []).length <= before) {
    if (performance.now() - t0 > 15000) return null;
    await sleep(2);
  }
  await sleep(300);
  return window.__mtbPin[window.__mtbPin.length - 1]; }"""

STEP_JS = """async (t) => {
  const el = document.querySelector('[data-testid=scrub]');
  const before = (window.__mtbScrub || []).length;
  el.value = String(t); el.dispatchEvent(new Event('input', {bubbles: true}));
  const t0 = performance.now();
  while ((window.__mtbScrub || []).length <= before) {
    if (performance.now() - t0 > 5000) return null;
    await new Promise(r => setTimeout(r, 2));
  }
  return window.__mtbScrub[window.__mtbScrub.length - 1]; }"""


FOLLOW_JS = """async (ms) => {
  const st = document.querySelector('.mtb-dual').parentElement.__mtbDual;
  const d = st.data;
  const toRef = (t) => { for (let i = 1; i < d.warp_new.length; i++) if (d.warp_new[i] >= t) {
      const f = (t - d.warp_new[i-1]) / (d.warp_new[i] - d.warp_new[i-1]);
      return d.warp_ref[i-1] + f * (d.warp_ref[i] - d.warp_ref[i-1]); } return NaN; };
  st.root.querySelector('.play').click();
  const errs = [], t0 = performance.now();
  await new Promise(r => setTimeout(r, 800));  // settle after the start
  while (performance.now() - t0 < ms) {
    const e = st.vRef.currentTime - toRef(st.vNew.currentTime);
    if (isFinite(e) && !st.vNew.paused) errs.push(Math.abs(e));
    await new Promise(r => setTimeout(r, 50));
  }
  st.root.querySelector('.play').click();
  return errs; }"""


WARP_D_JS = """() => { const p = document.querySelector('[data-testid=warp-plot] .tracemtbwarp path.js-line');
  return p ? p.getAttribute('d') : null; }"""
TARGET_JS = """(f) => { const gd = document.querySelector('[data-testid=warp-plot]');
  const fl = gd._fullLayout, w = gd.data[1], i = Math.floor(w.x.length * f);
  return {px: fl.xaxis.d2p(w.x[i]), py: fl.yaxis.d2p(w.y[i] + 0.3)}; }"""


def _anchor_roundtrips_ms(page, base: str) -> list[float]:
    """Click-to-add anchors on the warp plot: ms until the refitted warp is drawn."""
    page.goto(base + "/warp")
    plot = page.locator("[data-testid=warp-plot] .nsewdrag")
    plot.wait_for(timeout=60_000)
    out = []
    for f in (0.3, 0.5, 0.7):
        plot.scroll_into_view_if_needed()
        box, tgt, before = (
            plot.bounding_box(),
            page.evaluate(TARGET_JS, f),
            page.evaluate(WARP_D_JS),
        )
        t0 = time.perf_counter()
        page.mouse.click(box["x"] + tgt["px"], box["y"] + tgt["py"])
        page.wait_for_function(f"() => ({WARP_D_JS})() !== {before!r}", timeout=30_000)
        out.append(1000 * (time.perf_counter() - t0))
        page.wait_for_timeout(300)
    return out


def _make_sources(duration_s: float) -> Path:
    """A 1080p reference and new run (same trail, known warp), cached under bench/.cache/scrub/."""
    from mtbsync_core.synthetic import (
        RenderSpec,
        WarpProfile,
        make_trail,
        render_new,
        render_reference,
    )

    d = CACHE / f"1080p_{duration_s:g}s"
    if (d / "new.mp4").exists():
        return d
    tmp = d.with_suffix(".part")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    trail = make_trail()
    spec = RenderSpec(duration_s=duration_s, size=(1920, 1080), crf=26)
    render_reference(tmp / "ref.mp4", trail, spec)
    render_new(
        tmp / "new.mp4", trail, WarpProfile(t_ref_start_s=1.0, mean_ratio=0.9, wobble=0.15), spec
    )
    (tmp / "ref_markers.csv").write_text("name,t_ref\na,2.0\nb,4.0\nc,6.0\n", encoding="utf-8")
    shutil.rmtree(d, ignore_errors=True)
    tmp.rename(d)
    return d


def _server_baseline_ms(src: Path, times: list[float]) -> list[float]:
    """Per step: both frames decoded from the 1080p originals and JPEG-encoded (no transfer)."""
    import cv2

    from mtbsync_core import open_video

    out = []
    with open_video(src / "new.mp4") as vn, open_video(src / "ref.mp4") as vr:
        for t in times:
            t0 = time.perf_counter()
            for v, tt in ((vn, t), (vr, max(0.0, 0.9 * t))):
                frame = v.frame_at(tt, width=960)
                cv2.imencode(".jpg", frame)
            out.append(1000 * (time.perf_counter() - t0))
    return out


def _start_app(
    src: Path, project_dir: Path, script: Path = ROOT / "app" / "streamlit_app.py", args: tuple = ()
) -> tuple[subprocess.Popen, str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "MTBSYNC_PROJECT_DIR": str(project_dir), "MTBSYNC_SAMPLE_DIR": str(src)}
    env.pop("MTBSYNC_NO_SAMPLE", None)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            str(script),
            "--server.address",
            "127.0.0.1",
            "--server.port",
            str(port),
            "--server.headless",
            "true",
            *(["--", *args] if args else []),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            with urllib.request.urlopen(base + "/_stcore/health", timeout=2):
                return proc, base
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise RuntimeError("streamlit did not start")


IMGS_JS = """() => [...document.querySelectorAll('[data-testid=stImage] img')].map(i => i.src)"""
IMGS_READY_JS = """(old) => { const imgs = [...document.querySelectorAll('[data-testid=stImage] img')];
  return imgs.length === 2 && imgs.every((im, i) => im.src !== old[i] && im.complete); }"""


def _server_roundtrip_ms(src: Path, times: list[float]) -> list[float]:
    """Baseline in the browser: type a time, the server renders both frames; ms until both show."""
    from playwright.sync_api import sync_playwright

    proc, base = _start_app(
        src, CACHE / "unused", ROOT / "bench" / "scrub_server_app.py", (str(src),)
    )
    out = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(base)
            page.wait_for_function(
                "() => document.querySelectorAll('[data-testid=stImage] img').length === 2",
                timeout=120_000,
            )
            box = page.get_by_label("t_new (s)")
            for t in times:
                old = page.evaluate(IMGS_JS)
                box.fill(f"{t:.2f}")
                t0 = time.perf_counter()
                box.press("Enter")
                page.wait_for_function(IMGS_READY_JS, arg=old, timeout=60_000)
                out.append(1000 * (time.perf_counter() - t0))
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return out


def _browser_latencies_ms(
    base: str, times: list[float], pins: int = 10
) -> tuple[list[float], float, list[float], list[float]]:
    """Chromium: (scrub ms, s until the sync showed, follow errors s, anchor round trips ms,
    pin-to-refit-drawn ms)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        t0 = time.perf_counter()
        page.goto(base + "/sync")
        page.get_by_text("Timings per stage").wait_for(timeout=600_000)
        ready_s = time.perf_counter() - t0
        anchor_ms = _anchor_roundtrips_ms(page, base)
        page.goto(base + "/review")
        page.locator("[data-testid=scrub]").wait_for(timeout=60_000)
        page.wait_for_function(
            "() => [...document.querySelectorAll('.mtb-dual video')].every(v => v.readyState >= 2)",
            timeout=60_000,
        )
        page.evaluate(STEP_JS, 0.5)  # warm-up
        page.evaluate(STEP_JS, 1.5)
        follow_err_s = page.evaluate(FOLLOW_JS, 4000)
        out = []
        for t in times:
            ms = page.evaluate(STEP_JS, t)
            if ms is not None:
                out.append(float(ms))
            page.wait_for_timeout(30)
        pin_ms = []
        span = max(times) - min(times)
        for k in range(pins):  # increasing new times, each a little off the warp: monotone
            ms = page.evaluate(PIN_JS, [round(min(times) + span * (k + 0.5) / pins, 3), 0.04])
            if ms is not None:
                pin_ms.append(float(ms))
        browser.close()
    return out, ready_s, follow_err_s, anchor_ms, pin_ms


def _pct(values: list[float]) -> tuple[float, float]:
    return float(np.percentile(values, 50)), float(np.percentile(values, 95))


def run(quick: bool = False) -> dict:
    """Measure and print scrub latency (browser, proxies) against server-side frame rendering."""
    if not Path(CHROMIUM).exists():
        print(f"bench_scrub: skipped: {CHROMIUM} is missing (apt-get install chromium)")
        return {"skipped": f"{CHROMIUM} missing"}
    duration_s = 8.0 if quick else 16.0
    steps = 20 if quick else 60
    t0 = time.perf_counter()
    src = _make_sources(duration_s)
    gen_s = time.perf_counter() - t0
    rng = random.Random(7)
    times = [round(rng.uniform(1.5, duration_s - 0.5), 3) for _ in range(steps)]
    decode = _server_baseline_ms(src, times[: max(8, steps // 4)])
    roundtrip = _server_roundtrip_ms(src, times[: 8 if quick else 15])
    project_dir = CACHE / "projects"
    shutil.rmtree(project_dir, ignore_errors=True)  # sync (and proxies, if new) measured fresh
    proc, base = _start_app(src, project_dir)
    try:
        lat, ready_s, follow, anchor_ms, pin_ms = _browser_latencies_ms(
            base, times, 6 if quick else 12
        )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    (p50, p95), (d50, d95), (r50, r95) = _pct(lat), _pct(decode), _pct(roundtrip)
    res = {
        "source": "1920x1080 H.264, 30 fps",
        "proxy_width_px": 960,
        "steps": len(lat),
        "scrub_p50_ms": round(p50, 1),
        "scrub_p95_ms": round(p95, 1),
        "scrub_max_ms": round(max(lat), 1),
        "server_roundtrip_p50_ms": round(r50, 1),
        "server_roundtrip_p95_ms": round(r95, 1),
        "server_decode_only_p50_ms": round(d50, 1),
        "server_decode_only_p95_ms": round(d95, 1),
        "speedup_p95_vs_server_roundtrip": round(r95 / p95, 1) if p95 else None,
        "target_p95_ms": TARGET_P95_MS,
        "meets_target": p95 <= TARGET_P95_MS,
        "first_sync_shown_s": round(ready_s, 1),
        "source_generation_s": round(gen_s, 1),
        "playing_follow_err_p95_s": round(float(np.percentile(follow, 95)), 3) if follow else None,
        "playing_follow_err_max_s": round(max(follow), 3) if follow else None,
        "anchor_edit_roundtrip_ms": [round(v) for v in anchor_ms],
        "pin_steps": len(pin_ms),
        "pin_to_refit_p50_ms": round(_pct(pin_ms)[0], 1) if pin_ms else None,
        "pin_to_refit_p95_ms": round(_pct(pin_ms)[1], 1) if pin_ms else None,
        "pin_target_p95_ms": TARGET_PIN_P95_MS,
        "pin_meets_target": bool(pin_ms) and _pct(pin_ms)[1] <= TARGET_PIN_P95_MS,
        "pin_vs_warp_click_p95": (
            round(_pct(pin_ms)[1] / _pct(anchor_ms)[1], 2) if pin_ms and anchor_ms else None
        ),
    }
    _print(res)
    return res


def _print(res: dict) -> None:
    print(
        f"scrub (1080p sources, 960-px proxies, chromium): p50 {res['scrub_p50_ms']:.0f} ms, "
        f"p95 {res['scrub_p95_ms']:.0f} ms, max {res['scrub_max_ms']:.0f} ms over {res['steps']} steps "
        f"(target p95 <= {TARGET_P95_MS:.0f} ms: {'met' if res['meets_target'] else 'MISSED'})"
    )
    print(
        f"baseline, server renders both frames from the 1080p originals (Streamlit rerun + images, "
        f"same browser): p50 {res['server_roundtrip_p50_ms']:.0f} ms, p95 {res['server_roundtrip_p95_ms']:.0f} ms "
        f"-> proxies in the browser are {res['speedup_p95_vs_server_roundtrip']}x faster at p95 "
        f"(decode + JPEG alone: p95 {res['server_decode_only_p95_ms']:.0f} ms)"
    )
    if res["playing_follow_err_p95_s"] is not None:
        print(
            f"while playing, the reference followed the warp within {res['playing_follow_err_p95_s']:.3f} s "
            f"(p95; max {res['playing_follow_err_max_s']:.3f} s) by steering its playbackRate"
        )
    if res["pin_to_refit_p95_ms"] is not None:
        print(
            f"pin as anchor (Review) -> refitted warp in the player, relinked: p50 "
            f"{res['pin_to_refit_p50_ms']:.0f} ms, p95 {res['pin_to_refit_p95_ms']:.0f} ms over "
            f"{res['pin_steps']} pins (target p95 <= {TARGET_PIN_P95_MS:.0f} ms: "
            f"{'met' if res['pin_meets_target'] else 'MISSED'}); "
            f"{res['pin_vs_warp_click_p95']}x the Warp page's click-to-add at p95"
        )
    print(
        f"sync result of the pair shown after {res['first_sync_shown_s']:.1f} s; anchor click -> "
        "refitted warp drawn: " + ", ".join(str(v) for v in res["anchor_edit_roundtrip_ms"]) + " ms"
    )


if __name__ == "__main__":
    run(quick="--quick" in sys.argv)
