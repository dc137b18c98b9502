"""multicam.json: round trip field by field, refusal to overwrite, clear errors on bad files."""

from __future__ import annotations

import json

import pytest

from mtbsync_core.errors import MulticamError, OutputExistsError
from mtbsync_core.multicam.io import CameraSync, MulticamResult, read_multicam, write_multicam


def _result() -> MulticamResult:
    cams = (
        CameraSync(
            "/v/a.mp4",
            "a",
            0.0,
            0.0,
            1.0,
            "master",
            "ok",
            (),
            "master camera",
            30.0,
            False,
            9.9,
            298,
        ),
        CameraSync(
            "/v/b.mp4",
            "b",
            2.345678,
            412.5,
            0.93,
            "audio",
            "ok",
            (1e-4, -2e-4, 5e-5),
            "",
            25.0,
            True,
            8.0,
            200,
        ),
        CameraSync(
            "/v/c.mp4",
            "c",
            0.0,
            0.0,
            0.0,
            "none",
            "failed",
            (),
            "no evidence",
            60.0,
            False,
            3.0,
            180,
        ),
    )
    return MulticamResult(cams, "a", "auto", {"audio_rate_hz": 8000})


def test_roundtrip_field_by_field(tmp_path):
    res = _result()
    write_multicam(tmp_path / "multicam.json", res)
    back = read_multicam(tmp_path)  # the folder works too
    assert back.master_id == "a" and back.method == "auto"
    assert back.params == {"audio_rate_hz": 8000}
    for a, b in zip(res.cameras, back.cameras, strict=True):
        for name in CameraSync.__dataclass_fields__:
            assert getattr(a, name) == pytest.approx(getattr(b, name)), name
    data = json.loads((tmp_path / "multicam.json").read_text())
    assert data["format"] == "mtbsync.multicam" and data["version"] == 1
    assert {
        "path",
        "camera_id",
        "offset_s",
        "drift_ppm",
        "confidence",
        "method",
        "status",
        "residuals_s",
    } <= set(data["cameras"][1])


def test_clock_model():
    cam = _result().cameras[1]
    t = 5.0
    assert cam.to_master(t) == pytest.approx(2.345678 + (1 + 412.5e-6) * 5.0)
    assert cam.to_camera(cam.to_master(t)) == pytest.approx(t)


def test_refuses_existing_without_force(tmp_path):
    write_multicam(tmp_path / "multicam.json", _result())
    with pytest.raises(OutputExistsError):
        write_multicam(tmp_path / "multicam.json", _result())
    write_multicam(tmp_path / "multicam.json", _result(), force=True)
    assert not list(tmp_path.glob("*.part"))


def test_bad_files_name_the_problem(tmp_path):
    with pytest.raises(MulticamError, match="multicam sync"):
        read_multicam(tmp_path / "missing.json")
    (tmp_path / "x.json").write_text('{"format": "mtbsync.warp", "version": 1}')
    with pytest.raises(MulticamError, match="mtbsync.warp"):
        read_multicam(tmp_path / "x.json")
    (tmp_path / "y.json").write_text("{not json")
    with pytest.raises(MulticamError, match="line 1"):
        read_multicam(tmp_path / "y.json")
