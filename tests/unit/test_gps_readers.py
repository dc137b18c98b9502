"""GPX and FIT tracks: round trips through real parsers, and errors that name the line / record."""

from __future__ import annotations

import datetime as dt
import struct

import fitdecode
import numpy as np
import pytest

from mtbsync_core.errors import GpsParseError, OutputExistsError
from mtbsync_core.gps import (
    fit_to_bytes,
    make_track,
    read_fit,
    read_gpx,
    read_track,
    track_kind,
    write_gpx,
)
from mtbsync_core.gps.fit import FIT_EPOCH_UNIX_S, fit_crc, write_fit
from mtbsync_core.gps.track import from_local_m, to_local_m

T0 = 1_714_557_600.0  # 2024-05-01T10:00:00Z


def _track(n: int = 30, clock: str = "utc"):
    t = T0 + np.arange(n, dtype=float)
    lat, lon = from_local_m(np.arange(n) * 4.0, np.sin(np.arange(n) / 5.0) * 10.0, 46.5, 7.9)
    return make_track(
        t, lat, lon, 1500.0 - np.arange(n) * 0.5, np.full(n, 4.0), source="gpx", clock=clock
    )


GPX_OK = """<?xml version="1.0" encoding="UTF-8"?>
<gpx version="1.1" creator="test" xmlns="http://www.topografix.com/GPX/1/1">
 <trk><trkseg>
  <trkpt lat="46.5000000" lon="7.9000000"><ele>1500.0</ele><time>2024-05-01T10:00:00Z</time></trkpt>
  <trkpt lat="46.5000500" lon="7.9000500"><ele>1499.0</ele><time>2024-05-01T10:00:01.500Z</time></trkpt>
  <trkpt lat="46.5001000" lon="7.9001000"><time>2024-05-01T10:00:03Z</time><fix>2d</fix></trkpt>
 </trkseg></trk>
</gpx>
"""


def test_read_gpx_known_values(tmp_path):
    p = tmp_path / "ride.gpx"
    p.write_text(GPX_OK)
    tr = read_track(p)
    assert tr.source == "gpx" and tr.clock == "utc"
    np.testing.assert_allclose(tr.t_s - T0, [0.0, 1.5, 3.0])
    np.testing.assert_allclose(tr.lat_deg, [46.5, 46.50005, 46.5001])
    assert tr.ele_m[0] == 1500.0 and np.isnan(tr.ele_m[2])
    assert list(tr.fix) == [3, 3, 2]
    assert np.isnan(tr.speed_m_s).all()


def test_gpx_round_trip_keeps_times_and_positions(tmp_path):
    tr = _track()
    path = write_gpx(tr, tmp_path / "t.gpx")
    back = read_gpx(path)
    np.testing.assert_allclose(back.t_s, tr.t_s, atol=1e-3)
    x0, y0 = to_local_m(tr.lat_deg, tr.lon_deg, 46.5, 7.9)
    x1, y1 = to_local_m(back.lat_deg, back.lon_deg, 46.5, 7.9)
    assert np.hypot(x1 - x0, y1 - y0).max() < 0.05  # centimetres
    np.testing.assert_allclose(back.ele_m, tr.ele_m, atol=0.01)
    with pytest.raises(OutputExistsError):
        write_gpx(tr, path)
    write_gpx(tr, path, force=True)


def test_gpx_speed_from_extensions_and_gpx10(tmp_path):
    tr = _track(5)
    back = read_gpx(write_gpx(tr, tmp_path / "speed.gpx"))
    np.testing.assert_allclose(back.speed_m_s, 4.0)
    assert "gpxtpx:speed" in (tmp_path / "speed.gpx").read_text()
    v10 = tmp_path / "v10.gpx"
    v10.write_text(
        '<?xml version="1.0"?><gpx version="1.0" creator="x"><trk><trkseg>'
        '<trkpt lat="1" lon="2"><time>2020-01-01T00:00:00Z</time><speed>4.2</speed></trkpt>'
        "</trkseg></trk></gpx>"
    )
    assert read_gpx(v10).speed_m_s[0] == pytest.approx(4.2)


def test_gpx_syntax_error_names_the_line(tmp_path):
    p = tmp_path / "bad.gpx"
    p.write_text(
        GPX_OK.replace('</trkpt>\n  <trkpt lat="46.5001000"', '\n  <trkpt lat="46.5001000"', 1)
    )
    with pytest.raises(GpsParseError, match=r"line \d+"):
        read_track(p)


def test_gpx_point_without_time_names_point_and_line(tmp_path):
    p = tmp_path / "notime.gpx"
    p.write_text(GPX_OK.replace("<time>2024-05-01T10:00:03Z</time>", ""))
    with pytest.raises(GpsParseError, match=r"point 3 \(line 6\).*<time>"):
        read_gpx(p)


def test_gpx_without_points(tmp_path):
    p = tmp_path / "empty.gpx"
    p.write_text('<?xml version="1.0"?><gpx version="1.1" creator="x"></gpx>')
    with pytest.raises(GpsParseError, match="no track or route points"):
        read_track(p)


def test_fit_crc_matches_crc16_arc_check_value():
    assert fit_crc(b"123456789") == 0xBB3D  # FIT's CRC is CRC-16/ARC


def test_fit_written_by_hand_reads_back_with_fitdecode(tmp_path):
    tr = _track(20)
    path = write_fit(tr, tmp_path / "ride.fit")
    data = path.read_bytes()
    assert data[8:12] == b".FIT" and struct.unpack("<I", data[4:8])[0] == len(data) - 16
    with fitdecode.FitReader(str(path), check_crc=fitdecode.CrcCheck.ENABLED) as fit:
        records = [f for f in fit if isinstance(f, fitdecode.FitDataMessage) and f.name == "record"]
    assert len(records) == 20
    assert records[0].get_value("timestamp") == dt.datetime.fromtimestamp(T0, dt.UTC)
    back = read_track(path)
    assert back.source == "fit" and track_kind(path) == "fit"
    np.testing.assert_allclose(back.t_s, tr.t_s)
    np.testing.assert_allclose(back.lat_deg, tr.lat_deg, atol=1e-6)  # semicircles: ~1 cm
    np.testing.assert_allclose(back.ele_m, tr.ele_m, atol=0.2)  # 1/5 m resolution
    np.testing.assert_allclose(back.speed_m_s, tr.speed_m_s, atol=1e-3)


def test_fit_corrupt_byte_names_the_record(tmp_path):
    data = bytearray(fit_to_bytes(_track(20)))
    data[200] ^= 0xFF  # inside the data messages: the file CRC no longer matches
    p = tmp_path / "corrupt.fit"
    p.write_bytes(bytes(data))
    with pytest.raises(GpsParseError, match=r"record \d+"):
        read_fit(p)


def test_fit_truncated_names_the_record(tmp_path):
    p = tmp_path / "short.fit"
    p.write_bytes(fit_to_bytes(_track(20))[:150])
    with pytest.raises(GpsParseError, match=r"at record \d+ \(after \d+ good messages\)"):
        read_track(p)


def test_fit_without_positions(tmp_path):
    tr = _track(3)
    body = fit_to_bytes(tr)
    # keep only the header + file_id: a valid FIT file with no record message
    header_and_id = body[14 : 14 + 6 + 9 + 8]  # definition (6 + 3 fields x 3) + data (8)
    hdr = struct.pack("<BBHI4s", 14, 0x20, 2132, len(header_and_id), b".FIT")
    hdr += struct.pack("<H", fit_crc(hdr))
    p = tmp_path / "norecords.fit"
    p.write_bytes(hdr + header_and_id + struct.pack("<H", fit_crc(hdr + header_and_id)))
    with pytest.raises(GpsParseError, match="no record with a position"):
        read_fit(p)


def test_fit_needs_utc_clock():
    with pytest.raises(ValueError, match="absolute times"):
        fit_to_bytes(_track(3, clock="video"))
    assert dt.datetime(1989, 12, 31, tzinfo=dt.UTC).timestamp() == FIT_EPOCH_UNIX_S


def test_unknown_file_kind(tmp_path):
    p = tmp_path / "notes.txt"
    p.write_text("hello")
    with pytest.raises(GpsParseError, match="not a GPX, FIT or GoPro"):
        read_track(p)


def test_importing_gps_loads_no_parser():
    import subprocess
    import sys

    code = (
        "import sys, mtbsync_core, mtbsync_core.gps; "
        "print(sorted(m for m in ('gpxpy', 'fitdecode', 'gpmf_parser', 'py_gpmf_parser', "
        "'telemetry_parser') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
