"""GoPro chapters on real files: split a real GoPro recording at keyframes, join it back."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np
import pytest

from mtbsync_core.cli import main
from mtbsync_core.errors import ChapterError
from mtbsync_core.gps.read import read_imu, read_track
from mtbsync_core.testing.chapters import split_at_keyframes
from mtbsync_core.video.chapters import find_chapter_sets, join_chapters

GOPRO = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "gopro"


def _need(name: str) -> Path:
    path = GOPRO / name
    if not path.exists():
        print(f"skipping: the real GoPro sample {path} is absent")
        pytest.skip(f"real GoPro sample {path} is absent")
    return path


def _frames(path: Path) -> list[str]:
    with av.open(str(path)) as c:
        return [hashlib.blake2s(f.to_ndarray().tobytes()).hexdigest() for f in c.decode(video=0)]


def test_joined_chapters_decode_to_the_unsplit_frames_with_telemetry_in_order(tmp_path, capsys):
    src = _need("karma.mp4")
    parts = split_at_keyframes(src, tmp_path / "card", chapters=3)
    assert [p.name for p in parts] == ["GH010042.MP4", "GH020042.MP4", "GH030042.MP4"]
    counts = [av.open(str(p)).streams.video[0].frames for p in parts]
    assert all(c > 50 for c in counts)
    out = tmp_path / "run.mp4"
    assert main(["chapters", "join", str(tmp_path / "card"), "--out", str(out)]) == 0
    assert "no frame lost or doubled" in capsys.readouterr().out
    assert _frames(out) == _frames(src)
    with av.open(str(out)) as c:
        times = [f.time for f in c.decode(video=0)]
        assert np.all(np.diff(times) > 0)
        kinds = [s.type for s in c.streams]
    assert kinds == ["video", "audio", "data"]
    a, b = read_imu(src), read_imu(out)
    assert np.array_equal(a.t_accl_s, b.t_accl_s) and np.array_equal(a.accl_m_s2, b.accl_m_s2)
    assert np.all(np.diff(b.t_accl_s) >= 0)


def test_gps_fixes_survive_a_join_in_order(tmp_path):
    src = _need("max-heromode.mp4")
    parts = split_at_keyframes(src, tmp_path, chapters=2, number=7)
    out = join_chapters(parts, tmp_path / "run.mp4")
    a, b = read_track(src), read_track(out)
    assert len(b.t_s) == len(a.t_s) > 100
    assert np.array_equal(a.t_s, b.t_s) and np.array_equal(a.lat_deg, b.lat_deg)
    assert np.all(np.diff(b.t_s) > 0)


def test_sets_are_found_by_name_and_a_lone_chapter_is_refused(tmp_path):
    src = _need("karma.mp4")
    parts = split_at_keyframes(src, tmp_path, chapters=2, number=42)
    (tmp_path / "notes.txt").write_text("x")
    sets = find_chapter_sets(tmp_path)
    assert [s.key for s in sets] == ["GH-0042"] and list(sets[0].files) == parts
    with pytest.raises(ChapterError, match="two or more chapters"):
        join_chapters(parts[:1], tmp_path / "one.mp4")
    assert main(["chapters", "join", str(parts[0]), "--out", str(tmp_path / "x.mp4")]) == 1
    assert not (tmp_path / "x.mp4").exists()


def test_a_chapter_folder_opens_as_one_continuous_video(tmp_path):
    from mtbsync_core.errors import VideoOpenError
    from mtbsync_core.fileio import content_hash
    from mtbsync_core.video.stream import open_video, probe_video

    src = _need("karma.mp4")
    split_at_keyframes(src, tmp_path / "card", chapters=3)
    with open_video(src) as whole, open_video(tmp_path / "card") as joined:
        assert joined.info.frame_count == whole.info.frame_count
        assert abs(joined.info.duration_s - whole.info.duration_s) < 1e-6
        assert np.allclose(joined.frame_times(), whole.frame_times(), atol=1e-9)
        a = list(whole.iter_gray("all", 160))
        b = list(joined.iter_gray("all", 160))
        assert [round(t, 6) for t, _ in a] == [round(t, 6) for t, _ in b]
        assert all(np.array_equal(x, y) for (_, x), (_, y) in zip(a, b, strict=True))
        seams = joined.offsets_s[1:]
        for t in [*seams, *(seams - 0.01), 11.9]:
            assert np.array_equal(whole.frame_at(float(t)), joined.frame_at(float(t)))
        keys_a = [round(t, 6) for t, _ in whole.iter_gray("key", 96, start_s=2.0, end_s=9.0)]
        keys_b = [round(t, 6) for t, _ in joined.iter_gray("key", 96, start_s=2.0, end_s=9.0)]
        assert keys_a == keys_b
    assert probe_video(tmp_path / "card").frame_count == whole.info.frame_count
    assert content_hash(tmp_path / "card") != content_hash(tmp_path / "card" / "GH010042.MP4")
    split_at_keyframes(src, tmp_path / "card", chapters=2, number=43)
    with pytest.raises(VideoOpenError, match=r"must hold one GoPro chapter set \(found: GH-0042"):
        open_video(tmp_path / "card")
    (tmp_path / "empty").mkdir()
    with pytest.raises(VideoOpenError, match="found: none"):
        probe_video(tmp_path / "empty")


def test_a_chapter_folder_gives_the_unsplit_telemetry(tmp_path, capsys):
    from mtbsync_core.errors import GpsParseError

    karma = _need("karma.mp4")
    split_at_keyframes(karma, tmp_path / "k", chapters=3)
    a, b = read_imu(karma), read_imu(tmp_path / "k")
    assert len(b.t_accl_s) == len(a.t_accl_s) > 2000
    assert np.allclose(b.t_accl_s, a.t_accl_s, rtol=0, atol=1e-9)
    assert np.allclose(b.t_gyro_s, a.t_gyro_s, rtol=0, atol=1e-9)
    assert np.array_equal(b.accl_m_s2, a.accl_m_s2) and np.array_equal(b.gyro_rad_s, a.gyro_rad_s)
    heromode = _need("max-heromode.mp4")
    split_at_keyframes(heromode, tmp_path / "m", chapters=2, number=7)
    a, b = read_track(heromode), read_track(tmp_path / "m")
    assert len(b) == len(a) > 100 and np.all(np.diff(b.t_s) > 0)
    assert np.allclose(b.t_s, a.t_s, rtol=0, atol=1e-9)
    assert np.array_equal(b.lat_deg, a.lat_deg) and np.array_equal(b.lon_deg, a.lon_deg)
    assert b.clock == "video" and abs(b.utc_at_video_zero_s - a.utc_at_video_zero_s) < 0.01
    assert b.details["chapters"] == ["GH010007.MP4", "GH020007.MP4"]
    assert main(["gps", "info", str(tmp_path / "m")]) == 0
    assert f"GPS: {len(a)}/{len(a)} fixes" in capsys.readouterr().out
    (tmp_path / "empty").mkdir()
    with pytest.raises(GpsParseError, match="found: none"):
        read_track(tmp_path / "empty")
