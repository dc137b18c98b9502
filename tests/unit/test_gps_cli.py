"""``mtbsync gps info | prior`` through the real entry point."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mtbsync_core.cli import main
from mtbsync_core.gps import make_track, write_gpx

GOPRO = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "gopro"


def _gpx(tmp_path: Path) -> Path:
    t = 1_714_557_600.0 + np.arange(20.0)
    track = make_track(
        t,
        46.5 + np.arange(20) * 3e-5,
        np.full(20, 7.9),
        np.full(20, 1500.0),
        source="gpx",
        clock="utc",
    )
    return write_gpx(track, tmp_path / "ride.gpx")


def test_gps_info_gpx_text_and_json(tmp_path, capsys):
    path = _gpx(tmp_path)
    assert main(["gps", "info", str(path)]) == 0
    text = capsys.readouterr().out
    assert "20/20 fixes" in text and "2024-05-01T10:00:00.000+00:00" in text and "utc clock" in text
    assert main(["gps", "info", "--json", str(path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["kind"] == "gpx" and doc["gps"]["fixes"] == 20
    assert doc["gps"]["length_m"] == pytest.approx(19 * 3e-5 * 111_195, rel=0.01)


def test_gps_info_corrupt_gpx_exits_1_with_line(tmp_path, capsys):
    path = _gpx(tmp_path)
    path.write_text(path.read_text().replace("</trkpt>", "", 1))
    assert main(["gps", "info", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("mtbsync: error: ") and "line" in err


def test_gps_info_on_a_folder_without_chapters_says_why_once(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["gps", "info", str(tmp_path / "empty")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("mtbsync: error: ") and len(err.splitlines()) == 1
    assert "chapter set" in err and err.count("is a folder") == 1  # not repeated for the IMU


def _need_gopro() -> None:
    if not (GOPRO / "karma.mp4").exists():
        reason = f"real GoPro samples not found at {GOPRO.resolve()}"
        print(reason)
        pytest.skip(reason)


def test_gps_info_karma_reports_imu_without_fix(capsys):
    _need_gopro()
    assert main(["gps", "info", str(GOPRO / "karma.mp4")]) == 0
    out = capsys.readouterr().out
    assert "GPS: none" in out and "IMU: 2397 ACCL" in out


def test_gps_prior_on_a_track_too_short_falls_back(tmp_path, capsys):
    _need_gopro()
    video = GOPRO / "max-heromode.mp4"  # 14 m of walking: too short to be a prior
    rc = main(
        [
            "gps",
            "prior",
            "--reference",
            str(video),
            "--new",
            str(video),
            "--out",
            str(tmp_path / "p.json"),
        ]
    )
    assert rc == 1
    info = json.loads(capsys.readouterr().out)
    assert info["used"] is False and "too short" in info["reason"]
    assert info["clock_ref"]["method"] == "video-clock"
    assert not (tmp_path / "p.json").exists()


def _video(path: Path, created: str, seconds: int) -> Path:
    import av

    with av.open(str(path), "w") as out:
        out.metadata["creation_time"] = created
        st = out.add_stream("libx264", rate=2)
        st.width, st.height, st.pix_fmt = 64, 48, "yuv420p"
        for i in range(2 * seconds):
            img = np.full((48, 64, 3), (i * 7) % 255, np.uint8)
            for pkt in st.encode(av.VideoFrame.from_ndarray(img, format="bgr24")):
                out.mux(pkt)
        for pkt in st.encode():
            out.mux(pkt)
    return path


def test_gps_prior_with_gpx_tracks_and_creation_time(tmp_path, capsys):
    from mtbsync_core import synthetic as syn
    from mtbsync_core.gps.synthetic_track import tracks_for_pair

    profile = syn.WarpProfile(t_ref_start_s=3.0, mean_ratio=1.1, wobble=0.1)
    ref, new = tracks_for_pair(
        syn.make_trail(),
        profile,
        ref_duration_s=60.0,
        new_duration_s=45.0,
        ref_start_utc=1_714_557_600.0,
        new_start_utc=1_714_561_200.0,
    )
    write_gpx(ref, tmp_path / "ref.gpx")
    write_gpx(new, tmp_path / "new.gpx")
    ref_v = _video(tmp_path / "ref.mp4", "2024-05-01T10:00:00Z", 60)
    new_v = _video(tmp_path / "new.mp4", "2024-05-01T11:00:00Z", 45)
    out = tmp_path / "prior.json"
    rc = main(
        [
            "gps",
            "prior",
            "--reference",
            str(ref_v),
            "--new",
            str(new_v),
            "--ref-track",
            str(tmp_path / "ref.gpx"),
            "--new-track",
            str(tmp_path / "new.gpx"),
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    info = json.loads(capsys.readouterr().out)
    assert info["used"] and info["clock_new"]["method"] == "creation_time"
    doc = json.loads(out.read_text())
    t_new, t_ref = np.array(doc["t_new_s"]), np.array(doc["t_ref_s"])
    assert np.median(np.abs(t_ref - profile.truth(t_new))) < 0.3
    assert (
        main(
            [
                "gps",
                "prior",
                "--reference",
                str(ref_v),
                "--new",
                str(new_v),
                "--ref-track",
                str(tmp_path / "ref.gpx"),
                "--new-track",
                str(tmp_path / "new.gpx"),
                "--out",
                str(out),
            ]
        )
        == 3
    )
